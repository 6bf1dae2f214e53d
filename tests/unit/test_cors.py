"""CORS_ALLOW_ORIGINS: parsed and refused at cold start like the other settings; the headers of a response."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic import ValidationError

from local.stack import Stack, StackConfig, StackError, function_settings
from shared.cors import cors_headers, parse_allowed_origins
from shared.settings import settings_from_env

SHOP, LOCAL = "https://shop.example", "http://localhost:5500"


@pytest.mark.parametrize(("text", "origins"), [
    ("", ()),
    ("  ", ()),
    ("*", ("*",)),
    (SHOP, (SHOP,)),
    (f"{SHOP}, {LOCAL}", (SHOP, LOCAL)),
    (f"{SHOP},{SHOP}", (SHOP,)),
    ("http://127.0.0.1:5500,http://[::1]:8080", ("http://127.0.0.1:5500", "http://[::1]:8080")),
])
def test_allowed_origins_are_parsed(text: str, origins: tuple[str, ...]) -> None:
    assert parse_allowed_origins(text) == origins
    assert settings_from_env({"CORS_ALLOW_ORIGINS": text}).cors_allow_origins == origins


@pytest.mark.parametrize(("text", "reason"), [
    (f"*,{SHOP}", "cannot be combined"),
    ("https://shop.example/", "without a path"),
    ("https://shop.example/app", "without a path"),
    ("shop.example", "not an origin"),
    ("HTTPS://Shop.Example", "lower case"),
    ("https://shop.example:443", "drop the default port"),
    ("http://localhost:80", "drop the default port"),
    ("http://localhost:0", "invalid port"),
    ("http://localhost:65536", "invalid port"),
    ("null", "not an origin"),  # what sandboxed frames send: allowing it would allow any of them
    (f"{SHOP},,{LOCAL}", "empty origin"),
    (f"{SHOP},", "empty origin"),
])
def test_a_malformed_value_is_refused_with_the_reason(text: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        parse_allowed_origins(text)
    # And the function's cold start fails on it, like any other bad setting
    with pytest.raises(ValidationError, match="cors_allow_origins"):
        settings_from_env({"CORS_ALLOW_ORIGINS": text})


def test_the_default_is_cors_off() -> None:
    assert settings_from_env({}).cors_allow_origins == ()
    assert cors_headers((), SHOP) == {}


@pytest.mark.parametrize("origins", [(SHOP,), (SHOP, LOCAL)])
def test_a_listed_origin_may_read_the_response_and_the_answer_varies_with_origin(origins: tuple[str, ...]) -> None:
    for origin in origins:
        headers = cors_headers(origins, origin)
        assert headers["Access-Control-Allow-Origin"] == origin
        assert headers["Vary"] == "Origin"
        exposed = headers["Access-Control-Expose-Headers"].split(",")
        assert {"X-Request-ID", "X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset",
                "Retry-After"} <= set(exposed)
        assert "Access-Control-Allow-Credentials" not in headers  # bearer tokens, not cookies


@pytest.mark.parametrize("origin", ["https://evil.example", "https://shop.example.evil.example", "null",
                                    "https://SHOP.example", None, ""])
def test_an_unlisted_or_missing_origin_gets_no_allow_origin(origin: str | None) -> None:
    headers = cors_headers((SHOP, LOCAL), origin)
    assert headers == {"Vary": "Origin"}  # still Vary: a cache must not reuse this answer for a listed origin


def test_the_wildcard_answers_every_origin_alike() -> None:
    headers = cors_headers(("*",), "https://anyone.example")
    assert headers["Access-Control-Allow-Origin"] == "*"
    assert "Vary" not in headers
    assert cors_headers(("*",), None) == {}  # no Origin: not a CORS request


def test_the_local_stack_refuses_a_malformed_value_before_starting(tmp_path: Path) -> None:
    stack = Stack(StackConfig(state_dir=tmp_path, port=0, extra_env={"CORS_ALLOW_ORIGINS": "https://shop.example/"}))
    with pytest.raises(StackError, match=re.escape("CORS_ALLOW_ORIGINS: 'https://shop.example/' is not an origin")):
        stack.start()


def test_the_local_stack_gives_the_gateway_and_the_functions_one_canonical_value(tmp_path: Path) -> None:
    # Given `CORS_ALLOW_ORIGINS=... make run` (read from the environment like every function setting)
    settings = function_settings({"CORS_ALLOW_ORIGINS": f" {SHOP} , {LOCAL}"})
    stack = Stack(StackConfig(state_dir=tmp_path, port=0, function_settings=settings))
    assert stack.template_parameters() == {"CorsAllowOrigins": f"{SHOP},{LOCAL}"}
    assert stack.function_env()["CORS_ALLOW_ORIGINS"] == f"{SHOP},{LOCAL}"
    assert Stack(StackConfig(state_dir=tmp_path)).template_parameters() == {}
