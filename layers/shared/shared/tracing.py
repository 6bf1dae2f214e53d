"""X-Ray tracing with Powertools' Tracer, where Lambda traces the function (`Tracing: Active`).

Lambda sets AWS_XRAY_DAEMON_ADDRESS only for functions with active tracing; anywhere else (make run,
the tests, sam local without it) the handler is left untouched and the X-Ray SDK is never imported:
tracing is a no-op locally and costs nothing there. POWERTOOLS_TRACE_DISABLED=true turns it off on AWS.

Responses and errors are not captured into traces (capture_response/capture_error off): a login's
response holds a token, and an error's message may hold what a client sent.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


def tracing_active(environ: Mapping[str, str] = os.environ) -> bool:
    disabled = environ.get("POWERTOOLS_TRACE_DISABLED", "").strip().lower() in ("1", "true", "yes", "on")
    return bool(environ.get("AWS_XRAY_DAEMON_ADDRESS")) and not disabled


def traced(handler: Handler, environ: Mapping[str, str] = os.environ) -> Handler:
    """The handler inside a Powertools Tracer segment when Lambda traces it, else the handler itself."""
    if not tracing_active(environ):
        return handler
    # Imported here: the X-Ray SDK (and botocore under it) is loaded only by functions that are traced.
    from aws_lambda_powertools import Tracer  # noqa: PLC0415 - cold start: only traced functions pay it

    tracer = Tracer(auto_patch=False)  # our DynamoDB client and pg8000 are not botocore/requests
    wrapped: Handler = tracer.capture_lambda_handler(handler, capture_response=False, capture_error=False)
    return wrapped
