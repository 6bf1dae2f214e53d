"""Shrink an installed Lambda package tree: strip native extensions, drop what is never imported.

Run by infra/deploy/Makefile during `sam build`; standard library only (runs on the build host's
python3.12). Prints the size before and after.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

# Never imported at runtime: console scripts, SQLAlchemy's test harness and mypy plugin, stubs, caches.
_ALWAYS = ("bin", "sqlalchemy/testing", "sqlalchemy/ext/mypy")
_PATTERNS = ("**/__pycache__", "**/*.pyi", "**/tests", "**/*.pyc")
# The functions only ever talk to Postgres through pg8000; Alembic (which needs them all) ships its own.
_DIALECTS = ("mssql", "mysql", "oracle", "sqlite")


def tree_size(root: Path) -> int:
    return sum(path.stat().st_size for path in root.rglob("*") if path.is_file() and not path.is_symlink())


def remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path)
    elif path.exists():
        path.unlink()


def strip_extensions(root: Path) -> int:
    """`strip --strip-unneeded` every .so (wheels such as SQLAlchemy's keep their debug info)."""
    strip = shutil.which("strip")
    if strip is None:
        print("prune: `strip` not found, native extensions left as they are", file=sys.stderr)
        return 0
    libraries = sorted(root.rglob("*.so"))
    for library in libraries:
        subprocess.run([strip, "--strip-unneeded", str(library)], check=True)
    return len(libraries)


def prune(root: Path, drop_unused_dialects: bool) -> tuple[int, int]:
    before = tree_size(root)
    targets = [root / relative for relative in _ALWAYS]
    if drop_unused_dialects:
        targets += [root / "sqlalchemy" / "dialects" / name for name in _DIALECTS]
    for pattern in _PATTERNS:
        targets += list(root.glob(pattern))
    for target in targets:
        remove(target)
    strip_extensions(root)
    return before, tree_size(root)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("root", type=Path)
    parser.add_argument("--drop-unused-dialects", action="store_true")
    args = parser.parse_args(argv)
    before, after = prune(args.root, args.drop_unused_dialects)
    print(f"prune: {args.root}: {before / 1e6:.1f} MB -> {after / 1e6:.1f} MB unzipped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
