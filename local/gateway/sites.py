"""Static pages served by the local gateway under a reserved prefix (`--site /_dashboard=DIR`).

Like the docs (`/_docs`, docs.py), a site lives under a prefix of its own that starts with `/_`, and a
template whose routes would live there is refused, so a site never hides an API route. GET and HEAD
only; anything else under the prefix falls through to the gateway (a 404 gateway response).

The files served are an allow-list built from the folder (request paths never reach the filesystem),
re-read when a name is missing, so a library vendored while the gateway runs shows up without a restart.
`PREFIX` redirects to `PREFIX/`, so the folder's pages can use relative links.
"""

from __future__ import annotations

import mimetypes
import re
from collections.abc import Iterable
from pathlib import Path

from infra.sam_app import Route

from .responses import HttpResponse

_PREFIX = re.compile(r"/_[A-Za-z0-9_-]+")
INDEX = "index.html"
# A site shares its origin with the API (a page may hold a token): it runs only its own files, is never framed,
# and the browser takes each file for its declared type.
SECURITY_HEADERS = [
    ("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; "
                                "form-action 'self'; frame-ancestors 'none'"),
    ("X-Content-Type-Options", "nosniff"),
]


class SiteError(RuntimeError):
    """The site cannot be served (bad prefix, missing folder, or a template route under the prefix)."""


def under(prefix: str, path: str) -> bool:
    return path == prefix or path.startswith(prefix + "/")


def refuse_clashes(prefix: str, routes: Iterable[Route]) -> None:
    clashes = [r.path for r in routes if under(prefix, r.path)]
    if clashes:
        raise SiteError(f"template routes under the reserved prefix {prefix}: {clashes}")


def parse_site(option: str) -> tuple[str, Path]:
    """`/_name=DIR` (the command line's form) -> (prefix, folder)."""
    prefix, sep, folder = option.partition("=")
    if not sep or not folder:
        raise SiteError(f"a site is PREFIX=DIR, e.g. /_dashboard=local/dashboard/site (got {option!r})")
    return prefix, Path(folder)


class StaticSite:
    def __init__(self, prefix: str, folder: Path, routes: Iterable[Route]) -> None:
        if not _PREFIX.fullmatch(prefix):
            raise SiteError(f"a site prefix is /_ and letters, digits, '-' or '_' (got {prefix!r})")
        if not (folder / INDEX).is_file():
            raise SiteError(f"no {INDEX} in the site folder {folder}")
        refuse_clashes(prefix, routes)
        self.prefix = prefix
        self.folder = folder
        self.files = self._scan()

    def _scan(self) -> dict[str, Path]:
        return {p.relative_to(self.folder).as_posix(): p for p in sorted(self.folder.rglob("*"))
                if p.is_file() and not p.name.startswith(".")}

    def respond(self, method: str, path: str, query: str) -> HttpResponse | None:
        """This site's response to the request, or None to let the gateway route it."""
        if method not in ("GET", "HEAD") or not under(self.prefix, path):
            return None
        if path == self.prefix:
            location = self.prefix + "/" + (f"?{query}" if query else "")
            return HttpResponse(301, [("Location", location), ("Content-Type", "text/plain")], b"")
        name = path[len(self.prefix) + 1:] or INDEX
        found = self.files.get(name)
        if found is None or not found.is_file():
            self.files = self._scan()
            found = self.files.get(name)
            if found is None:
                return None
        content_type = mimetypes.guess_type(found.name)[0] or "application/octet-stream"
        if content_type.startswith("text/") or content_type == "application/javascript":
            content_type += "; charset=utf-8"
        # no-cache: a reload shows an edited page at once (revalidation is cheap on loopback).
        return HttpResponse(200, [("Content-Type", content_type), ("Cache-Control", "no-cache"), *SECURITY_HEADERS],
                            found.read_bytes())
