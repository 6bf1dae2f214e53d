"""CORS on the actual responses: which origins may read them (CORS_ALLOW_ORIGINS) and the headers that say so.

API Gateway answers the preflight (the template's `Cors`: an OPTIONS mock on every path, no function invoked).
With a Lambda proxy integration the function itself must add Access-Control-Allow-Origin to the actual response
(https://docs.aws.amazon.com/apigateway/latest/developerguide/how-to-cors.html, "Enabling CORS support for Lambda
or HTTP proxy integrations"): the request guard adds these headers to every response, the resolver's and its own.

The answer for an Origin is Powertools' CORSConfig's (an exact match of a listed origin, or `*`); a disallowed or
missing Origin gets no CORS headers. `Vary: Origin` goes on every response when the answer depends on the Origin
(a list, or one origin), so a shared cache never hands one origin's answer to another.
"""

from __future__ import annotations

import re
from functools import lru_cache

from aws_lambda_powertools.event_handler import CORSConfig

WILDCARD = "*"
# What a page may send and read beyond the CORS-safelisted headers (the template's AllowHeaders and the gateway
# responses' Access-Control-Expose-Headers say the same).
ALLOWED_HEADERS = ("Authorization", "Content-Type", "Idempotency-Key", "X-Request-ID")
EXPOSED_HEADERS = ("X-Request-ID", "X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset", "Retry-After",
                   "Idempotent-Replayed")

# An origin as a browser serialises it (https://html.spec.whatwg.org/multipage/browsers.html#ascii-serialisation-of-an-origin):
# lower-case scheme and host, a port only when it is not the scheme's default, no path.
_ORIGIN = re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*)://(?P<host>[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?|\[[0-9a-f:.]+\])"
                     r"(?::(?P<port>[0-9]{1,5}))?")
_DEFAULT_PORTS = {"http": "80", "https": "443"}


def parse_allowed_origins(text: str) -> tuple[str, ...]:
    """CORS_ALLOW_ORIGINS as a tuple: empty (CORS off), `("*",)`, or origins. Raises ValueError with the reason."""
    if not text.strip():
        return ()
    entries = [entry.strip() for entry in text.split(",")]
    if WILDCARD in entries:
        if len(entries) > 1:
            raise ValueError("'*' allows every origin and cannot be combined with others")
        return (WILDCARD,)
    for entry in entries:
        _check_origin(entry)
    return tuple(dict.fromkeys(entries))


def _check_origin(entry: str) -> None:
    example = "such as https://shop.example or http://localhost:5500"
    if not entry:
        raise ValueError("an empty origin in the list (a stray comma?)")
    match = _ORIGIN.fullmatch(entry)
    if match is None:
        hint = " in lower case" if _ORIGIN.fullmatch(entry.lower()) else ", without a path or a trailing slash"
        raise ValueError(f"{entry!r} is not an origin: write scheme://host[:port]{hint}, {example}")
    port = match["port"]
    if port is not None and (not 0 < int(port) < 65536 or port.startswith("0")):
        raise ValueError(f"{entry!r} has an invalid port")
    if port is not None and _DEFAULT_PORTS.get(match["scheme"]) == port:
        raise ValueError(f"{entry!r}: drop the default port, browsers send {match['scheme']}://{match['host']}")


@lru_cache(maxsize=8)
def _config(origins: tuple[str, ...]) -> CORSConfig:
    first, *others = origins
    return CORSConfig(allow_origin=first, extra_origins=others, allow_headers=list(ALLOWED_HEADERS),
                      expose_headers=list(EXPOSED_HEADERS))


def cors_headers(origins: tuple[str, ...], origin: str | None) -> dict[str, str]:
    """The CORS headers of a response to a request from `origin` (its Origin header), given the allowed origins."""
    if not origins:
        return {}
    config = _config(origins)
    allowed = config.allowed_origin(origin) if origin else None
    headers = config.to_dict(allowed) if allowed else {}
    if origins != (WILDCARD,):
        headers["Vary"] = "Origin"
    return headers
