"""Lambda-like runtime loop executed inside each worker process (stdlib only).

Run by path (runpy) so this package's folder never lands on the function's sys.path.
IPC: a socket inherited as fd `_GATEWAY_IPC_FD`; frames are a 4-byte big-endian
length followed by JSON. The function's own stdout/stderr stay free for its logs.
"""

from __future__ import annotations

import decimal
import importlib
import json
import os
import socket
import struct
import sys
import time
import traceback
from typing import Any

_LEN = struct.Struct(">I")


class LambdaContext:
    """The attributes of the Python runtime's context object."""

    def __init__(self, request_id: str, deadline_ms: int) -> None:
        name = os.environ["AWS_LAMBDA_FUNCTION_NAME"]
        region = os.environ["AWS_REGION"]
        self.function_name = name
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        self.invoked_function_arn = f"arn:aws:lambda:{region}:{os.environ['_GATEWAY_ACCOUNT_ID']}:function:{name}"
        self.memory_limit_in_mb = int(os.environ["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"])
        self.aws_request_id = request_id
        self.log_group_name = os.environ["AWS_LAMBDA_LOG_GROUP_NAME"]
        self.log_stream_name = os.environ["AWS_LAMBDA_LOG_STREAM_NAME"]
        self.identity = None
        self.client_context = None
        self.tenant_id = None
        self._deadline_ms = deadline_ms

    def get_remaining_time_in_millis(self) -> int:
        return max(0, self._deadline_ms - int(time.time() * 1000))


def _default(obj: Any) -> Any:
    if isinstance(obj, decimal.Decimal):  # the Lambda runtime serialises Decimal as numbers
        return int(obj) if obj == obj.to_integral_value() else float(obj)
    raise TypeError(f"Object of type {type(obj).__name__} is not JSON serializable")


def _error(exc: BaseException) -> dict[str, Any]:
    return {
        "errorMessage": str(exc),
        "errorType": type(exc).__name__,
        "stackTrace": traceback.format_tb(exc.__traceback__),
    }


class Channel:
    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.reader = sock.makefile("rb")

    def send(self, obj: Any) -> None:
        try:
            data = json.dumps(obj, default=_default, separators=(",", ":")).encode()
        except (TypeError, ValueError) as exc:
            data = json.dumps({"ok": False, "error": _error(exc)}).encode()
        self.sock.sendall(_LEN.pack(len(data)) + data)

    def recv(self) -> Any:
        head = self.reader.read(4)
        if len(head) < 4:
            return None
        (size,) = _LEN.unpack(head)
        return json.loads(self.reader.read(size))


def _setup() -> tuple[Channel, str]:
    fd = int(os.environ.pop("_GATEWAY_IPC_FD"))
    extra_path = [p for p in os.environ.pop("_GATEWAY_SYS_PATH", "").split(os.pathsep) if p]
    here = os.path.dirname(os.path.abspath(__file__))
    # Lambda order: function code, then layers, then the runtime's packages.
    sys.path[:] = extra_path + [p for p in sys.path if p not in ("", os.getcwd(), here)]
    return Channel(socket.socket(fileno=fd)), os.environ["_HANDLER"]


def main() -> None:
    chan, handler_spec = _setup()
    module_name, _, func_name = handler_spec.rpartition(".")
    try:
        module = importlib.import_module(module_name.replace("/", "."))
        handler = getattr(module, func_name)
    except Exception as exc:  # init error: Lambda reports it on every invoke
        traceback.print_exc()
        chan.send({"ready": False, "error": _error(exc)})
        return
    chan.send({"ready": True, "pid": os.getpid()})
    while True:
        msg = chan.recv()
        if msg is None:
            return
        ctx = LambdaContext(msg["id"], msg["deadline"])
        try:
            result = handler(msg["event"], ctx)
            reply = {"ok": True, "result": result}
        except Exception as exc:
            print(f"[ERROR] {type(exc).__name__}: {exc}", file=sys.stderr)
            traceback.print_exc()
            reply = {"ok": False, "error": _error(exc)}
        sys.stdout.flush()
        sys.stderr.flush()
        chan.send(reply)


if __name__ == "__main__":
    main()
