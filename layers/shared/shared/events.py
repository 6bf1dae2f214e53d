"""Reading raw API Gateway REST v1 proxy events, before Powertools has parsed them."""

from typing import Any


def header(event: dict[str, Any], name: str) -> str | None:
    """Case-insensitive header lookup (API Gateway passes header names as the client sent them)."""
    lowered = name.lower()
    for key, value in (event.get("headers") or {}).items():
        if key.lower() == lowered:
            return str(value)
    return None


def is_json_content(content_type: str | None) -> bool:
    """`application/json` (any parameters); a missing Content-Type is read as JSON, as Powertools does."""
    return (content_type or "application/json").split(";", 1)[0].strip().lower() == "application/json"
