"""Reading raw API Gateway REST v1 proxy events, before Powertools has parsed them."""

from __future__ import annotations

import base64
from typing import Any

Event = dict[str, Any]


def header(event: Event, name: str) -> str | None:
    """Case-insensitive header lookup (API Gateway passes header names as the client sent them)."""
    lowered = name.lower()
    for key, value in (event.get("headers") or {}).items():
        if key.lower() == lowered:
            return str(value)
    return None


def source_ip(event: Event) -> str:
    """The caller's address as API Gateway saw it. Never X-Forwarded-For: clients can forge it."""
    identity = (event.get("requestContext") or {}).get("identity") or {}
    return str(identity.get("sourceIp") or "unknown")


def is_json_content(content_type: str | None) -> bool:
    """`application/json` (any parameters); a missing Content-Type is read as JSON, as Powertools does."""
    return (content_type or "application/json").split(";", 1)[0].strip().lower() == "application/json"


def body_size(event: Event) -> int:
    """The body's size in bytes, as the client sent it (a base64 body is decoded size)."""
    body = event.get("body") or ""
    size = len(body.encode()) if isinstance(body, str) else len(body)
    return size * 3 // 4 if event.get("isBase64Encoded") else size


def is_binary_body(event: Event) -> bool:
    """A base64 body (how API Gateway passes bytes) that is not UTF-8 text, so it cannot be JSON."""
    if not event.get("isBase64Encoded") or not event.get("body"):
        return False
    try:
        base64.b64decode(event["body"], validate=True).decode()
    except ValueError:  # binascii.Error and UnicodeDecodeError are ValueErrors
        return True
    return False
