"""Start and stop the classic Flask baseline (`../shared/baselines/seed_flask`) for side-by-side runs.

The shared folder may be read-only, so it is copied to a writable place (default /tmp/seed_flask)
where its `run.sh` keeps a venv, a Postgres cluster (/tmp/seedflask-pg, port 15432) and state.
Its fixed ports are 18080 (gateway), 18081 (users), 18082 (orders).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO

REPO = Path(__file__).resolve().parents[2]
SOURCE = REPO.parent / "shared" / "baselines" / "seed_flask"
_READY = re.compile(r"READY seed_flask gateway listening on (http://\S+)")


@dataclass
class Baseline:
    process: subprocess.Popen[str]
    base_url: str

    def stop(self) -> None:
        """SIGTERM lets run.sh's supervisor stop gunicorn and the Postgres it started."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)


def prepare(target: Path) -> Path:
    """Copy the baseline to a writable folder once (its venv and state live there)."""
    if not (target / "run.sh").exists():
        shutil.copytree(SOURCE, target)
        for path in [target, *target.rglob("*")]:
            path.chmod(path.stat().st_mode | 0o200)
    return target


def start(target: Path, env: dict[str, str], log: IO[str], timeout: float = 300) -> Baseline:
    """Run `run.sh` (creates its venv on first use) and wait for its READY line."""
    folder = prepare(target)
    process = subprocess.Popen([str(folder / "run.sh")], cwd=folder, env={**os.environ, **env},
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1)
    found: list[str] = []
    seen = threading.Event()

    def pump() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            log.write(line)
            match = _READY.search(line)
            if match and not found:
                found.append(match.group(1))
                seen.set()
        seen.set()

    threading.Thread(target=pump, name="seed-flask-output", daemon=True).start()
    deadline = time.monotonic() + timeout
    while not seen.wait(1) and time.monotonic() < deadline:
        pass
    baseline = Baseline(process, found[0] if found else "")
    if not found:
        baseline.stop()
        raise RuntimeError(f"seed_flask did not print READY within {timeout:.0f} s; see its log")
    return baseline
