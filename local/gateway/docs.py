"""API docs on the local gateway: an OpenAPI file and Swagger UI, served offline.

Enabled with `--openapi FILE` (or GATEWAY_OPENAPI), so the emulator stays generic; `make run` passes
the project's openapi.json. Everything lives under the reserved prefix `/_docs`; a template whose
routes would live there is refused (sites.py, shared with the other static pages).
The Swagger UI assets come from the `openapi-ui-bundles` package installed in the venv: no CDN.

    /_docs               Swagger UI
    /_docs/openapi.json  the document, with this gateway prepended to `servers` ("Try it out" works)
"""

from __future__ import annotations

import html
import json
import mimetypes
from pathlib import Path
from typing import Any

from openapi_ui_bundles.swagger_ui import static_path

from infra.sam_app import Route

from .responses import HttpResponse
from .sites import SiteError, refuse_clashes, under

PREFIX = "/_docs"
SPEC_PATH = f"{PREFIX}/openapi.json"
_INDEX = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title}</title>
<link rel="stylesheet" href="{prefix}/swagger-ui.css">
<link rel="icon" type="image/png" href="{prefix}/favicon-32x32.png">
</head>
<body>
<div id="swagger-ui"></div>
<script src="{prefix}/swagger-ui-bundle.js"></script>
<script src="{prefix}/swagger-ui-standalone-preset.js"></script>
<script>
window.ui = SwaggerUIBundle({{
  url: "{spec}", dom_id: "#swagger-ui", deepLinking: true, persistAuthorization: true,
  validatorUrl: null, presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
  layout: "StandaloneLayout"
}});
</script>
</body>
</html>
"""


class DocsError(SiteError):
    """The docs cannot be served (missing file or assets, or a route under the prefix)."""


def swagger_ui_dir() -> Path:
    return Path(static_path)


class DocsSite:
    def __init__(self, spec_file: str | Path, routes: list[Route], assets: Path | None = None) -> None:
        self.spec_file = Path(spec_file)
        if not self.spec_file.is_file():
            raise DocsError(f"OpenAPI file not found: {self.spec_file}")
        try:
            refuse_clashes(PREFIX, routes)
        except SiteError as exc:
            raise DocsError(str(exc)) from exc
        self.assets = assets or swagger_ui_dir()
        # A fixed allow-list of files: request paths never reach the filesystem.
        self.asset_files = {p.name: p for p in self.assets.iterdir() if p.is_file() and p.suffix != ".html"}

    def respond(self, method: str, path: str, host: str | None) -> HttpResponse | None:
        """The docs response for this request, or None to let the gateway route it."""
        if method not in ("GET", "HEAD") or not under(PREFIX, path):
            return None
        if path in (PREFIX, PREFIX + "/"):
            return self._index()
        if path == SPEC_PATH:
            return self._spec(host)
        asset = self.asset_files.get(path[len(PREFIX) + 1 :])
        if asset is None:
            return None
        content_type = mimetypes.guess_type(asset.name)[0] or "application/octet-stream"
        return HttpResponse(200, [("Content-Type", content_type), ("Cache-Control", "max-age=3600")],
                            asset.read_bytes())

    def _document(self) -> dict[str, Any]:
        # Read per request: `make openapi` while the gateway runs shows up on reload.
        return dict(json.loads(self.spec_file.read_text(encoding="utf-8")))

    def _index(self) -> HttpResponse:
        title = str(self._document().get("info", {}).get("title", "API")) + " - Swagger UI"
        page = _INDEX.format(title=html.escape(title), prefix=PREFIX, spec=SPEC_PATH)
        return HttpResponse(200, [("Content-Type", "text/html; charset=utf-8")], page.encode())

    def _spec(self, host: str | None) -> HttpResponse:
        document = self._document()
        if host:
            here = {"url": f"http://{host}", "description": "This local gateway"}
            document["servers"] = [here, *document.get("servers", [])]
        body = json.dumps(document, separators=(",", ":")).encode()
        return HttpResponse(200, [("Content-Type", "application/json")], body)
