"""The local stack's child processes: started with their output forwarded line by line, watched, stopped.

Every wait has a deadline and raises StackError with a message meant for a person.
"""

from __future__ import annotations

import re
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import IO

REPO = Path(__file__).resolve().parents[1]


class StackError(RuntimeError):
    """Something could not start; the message says what and what to do."""


class ChildProcess:
    """A child process whose output is forwarded line by line; remembers the first ready match."""

    def __init__(self, name: str, command: list[str], env: dict[str, str], sink: IO[str] | None,
                 ready: re.Pattern[str] | None = None) -> None:
        self.name = name
        self.ready_match: re.Match[str] | None = None
        self._ready = ready
        self._seen = threading.Event()
        self._sink = sink
        self.process = subprocess.Popen(command, env=env, cwd=REPO, stdout=subprocess.PIPE,
                                        stderr=subprocess.STDOUT, text=True, bufsize=1)
        threading.Thread(target=self._pump, name=f"{name}-output", daemon=True).start()

    def _pump(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            sink = self._sink or sys.stdout
            sink.write(line)
            sink.flush()
            if self._ready is not None and self.ready_match is None:
                self.ready_match = self._ready.search(line)
                if self.ready_match:
                    self._seen.set()
        self._seen.set()

    def wait_ready(self, timeout: float) -> re.Match[str]:
        if not self._seen.wait(timeout) or self.ready_match is None:
            self.stop()
            raise StackError(f"{self.name} did not become ready within {timeout:.0f} s (see its output above)")
        return self.ready_match

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self, timeout: float = 10) -> None:
        if self.alive():
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)


def wait_http(url: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=1).close()
            return
        except urllib.error.HTTPError:
            return  # it answers: good enough
        except OSError:
            time.sleep(0.1)
    raise StackError(f"nothing answers at {url} after {timeout:.0f} s")


