"""`make run`: start the whole local stack, serve the API, stop everything on SIGINT/SIGTERM.

Exit codes: 0 after a clean stop, 1 when a part died while running, 2 when something could
not start (the message says what).
"""

from __future__ import annotations

import signal
import sys
import threading
from types import FrameType

from local.stack import Stack, StackConfig, StackError


def main() -> int:
    config = StackConfig.from_env()
    stack = Stack(config)
    stopping = threading.Event()

    def request_stop(signum: int, _frame: FrameType | None) -> None:
        print(f"\nReceived {signal.Signals(signum).name}, stopping…", flush=True)
        stopping.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    print(f"Starting the local stack (state in {config.state_dir})…", flush=True)
    try:
        stack.start()
    except StackError as exc:
        print(f"ERROR: {exc}", file=sys.stderr, flush=True)
        return 2
    print(f"Postgres: {stack.database_url}\nDynamoDB: {stack.dynamodb_url}", flush=True)
    for name, url in stack.page_urls().items():
        print(f"{name}: {url}", flush=True)
    print(f"READY users-orders-api listening on {stack.base_url}  (Ctrl-C to stop)", flush=True)
    died = None
    while not stopping.wait(0.5):
        died = stack.failed_child()
        if died:
            print(f"ERROR: {died} exited unexpectedly; stopping the rest", file=sys.stderr, flush=True)
            break
    stack.stop()
    print("Stopped.", flush=True)
    return 1 if died else 0


if __name__ == "__main__":
    sys.exit(main())
