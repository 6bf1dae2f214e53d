"""The layer build's CA step (infra/deploy/Makefile `ca-certs`): bundle present -> copied to certs/, else nothing."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.infrastructure.conftest import REPO

MAKEFILE = REPO / "infra" / "deploy" / "Makefile"


def ca_step(artifacts: Path, certs: Path) -> subprocess.CompletedProcess[str]:
    if shutil.which("make") is None:
        pytest.fail("make is required to build the layer")
    return subprocess.run(["make", "-s", "-f", str(MAKEFILE), "ca-certs", f"ARTIFACTS_DIR={artifacts}",
                           f"CA_CERTS_DIR={certs}"], capture_output=True, text=True, timeout=60, check=False)


def test_a_bundle_in_the_certs_folder_lands_under_certs_in_the_layer(tmp_path: Path) -> None:
    # Given a bundle (and a stray non-PEM file) in the certs folder
    certs = tmp_path / "certs"
    certs.mkdir()
    (certs / "rds-global-bundle.pem").write_text("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
    (certs / "README.md").write_text("not a bundle")
    # When the layer's CA step runs
    done = ca_step(tmp_path / "layer", certs)
    # Then the bundle is in the layer's certs/ (Lambda mounts the layer at /opt: /opt/certs/rds-global-bundle.pem)
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in (tmp_path / "layer" / "certs").iterdir()) == ["rds-global-bundle.pem"]
    assert (tmp_path / "layer" / "certs" / "rds-global-bundle.pem").read_bytes() == \
        (certs / "rds-global-bundle.pem").read_bytes()


def test_no_bundle_copies_nothing_and_still_succeeds(tmp_path: Path) -> None:
    done = ca_step(tmp_path / "layer", tmp_path / "missing")
    assert done.returncode == 0, done.stderr
    assert not (tmp_path / "layer").exists()
    assert "none copied" in done.stdout


def test_the_shared_layer_build_runs_the_ca_step() -> None:
    # build-SharedLayer (what `sam build` calls for the layer) depends on ca-certs
    rule = next(line for line in MAKEFILE.read_text().splitlines() if line.startswith("build-SharedLayer:"))
    assert "ca-certs" in rule.split(":", 1)[1].split()
