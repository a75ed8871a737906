"""``/docs`` (Swagger UI) and ``/redoc`` served with their JavaScript and CSS from an installed
package (``fastapi-offline`` ships both bundles), so the docs work on a machine without internet.

FastAPI's own docs pages load these files from a CDN; the app is built with ``docs_url=None,
redoc_url=None`` and these routes take their place at the same paths.
"""
from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import Response
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.staticfiles import StaticFiles

ASSETS = "/docs/assets"
#: The one resource the ReDoc bundle fetches from the internet (its footer logo): served as an
#: empty image instead, so the page makes no request to another host.
REDOC_LOGO = b"https://cdn.redoc.ly/redoc/logo-mini.svg"
EMPTY_SVG = b"data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg'/%3E"


def assets_dir() -> Path:
    import fastapi_offline

    return Path(fastapi_offline.__file__).resolve().parent / "static"


def install(app: FastAPI) -> None:
    openapi_url = app.openapi_url or "/openapi.json"
    title = f"{app.title} API"
    redoc_js = (assets_dir() / "redoc.standalone.js").read_bytes().replace(REDOC_LOGO, EMPTY_SVG)

    async def redoc_bundle(request: Request) -> Response:
        return Response(redoc_js, media_type="text/javascript; charset=utf-8",
                        headers={"Cache-Control": "public, max-age=86400"})

    # A plain route before the mount, so it wins over the file of the same name.
    app.router.add_route(f"{ASSETS}/redoc.standalone.js", redoc_bundle, include_in_schema=False)
    app.mount(ASSETS, StaticFiles(directory=assets_dir()), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    def swagger_ui():
        # validatorUrl None: Swagger UI would otherwise send the schema to a public validator.
        return get_swagger_ui_html(
            openapi_url=openapi_url, title=title, oauth2_redirect_url="/docs/oauth2-redirect",
            swagger_js_url=f"{ASSETS}/swagger-ui-bundle.js", swagger_css_url=f"{ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS}/favicon.png", swagger_ui_parameters={"validatorUrl": None})

    @app.get("/docs/oauth2-redirect", include_in_schema=False)
    def swagger_redirect():
        return get_swagger_ui_oauth2_redirect_html()

    @app.get("/redoc", include_in_schema=False)
    def redoc():
        return get_redoc_html(openapi_url=openapi_url, title=title, redoc_js_url=f"{ASSETS}/redoc.standalone.js",
                              redoc_favicon_url=f"{ASSETS}/favicon.png", with_google_fonts=False)
