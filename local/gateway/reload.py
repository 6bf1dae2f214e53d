"""Hot reload: poll .py mtimes under each function's CodeUri and layers.

Polling (not inotify) keeps it dependency-free and works on any filesystem; at ~1 s it
costs a few ms per scan for a small project.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable
from pathlib import Path

from infra.sam_app import App


def snapshot(dirs: list[Path]) -> dict[str, float]:
    out: dict[str, float] = {}
    for d in dirs:
        for root, subdirs, files in os.walk(d):
            subdirs[:] = [s for s in subdirs if not s.startswith(".") and s != "__pycache__"]
            for name in files:
                if name.endswith(".py"):
                    p = os.path.join(root, name)
                    with contextlib.suppress(OSError):  # deleted while scanning
                        out[p] = os.stat(p).st_mtime_ns
    return out


class CodeWatcher:
    def __init__(self, app: App, interval: float, on_change: Callable[[list[str]], None]) -> None:
        self.dirs = {lid: [f.code_dir, *f.layer_dirs] for lid, f in app.functions.items()}
        self.interval = interval
        self.on_change = on_change
        self.stop_event = threading.Event()
        self.state = {lid: snapshot(dirs) for lid, dirs in self.dirs.items()}
        self.thread = threading.Thread(target=self._run, name="gateway-reload", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.stop_event.set()
        if self.thread.is_alive():
            self.thread.join(timeout=5)

    def _run(self) -> None:
        while not self.stop_event.wait(self.interval):
            changed = []
            for lid, dirs in self.dirs.items():
                snap = snapshot(dirs)
                if snap != self.state[lid]:
                    self.state[lid] = snap
                    changed.append(lid)
            if changed:
                self.on_change(changed)
