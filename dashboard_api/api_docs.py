"""``/openapi.json``, ``/docs`` (Swagger UI) and ``/redoc``: served only when the HTTP policy allows
(development, or ``SMARTWARD_API_DOCS=1``), each page under its own Content-Security-Policy.
``app.openapi()`` works in-process either way (tests, the authorization matrix, tools).

Both pages load their bundles from ``/static/vendor`` (``scripts/vendor_api_docs.sh``, pinned versions):
hospital networks are often offline, and a docs page must not reach out to the internet."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse

from .http_security import csp_of

OPENAPI_URL = "/openapi.json"
VENDOR = "/static/vendor"


def _page(response: HTMLResponse) -> HTMLResponse:
    response.headers["Content-Security-Policy"] = csp_of(bytes(response.body).decode(), docs=True)
    return response


def add_api_docs(app: FastAPI) -> None:
    """Serve the schema and both docs pages (the app was built with ``openapi_url=None``)."""

    @app.get(OPENAPI_URL, include_in_schema=False)
    async def openapi() -> JSONResponse:
        return JSONResponse(app.openapi())

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui() -> HTMLResponse:
        return _page(get_swagger_ui_html(
            openapi_url=OPENAPI_URL, title=f"{app.title} API",
            swagger_js_url=f"{VENDOR}/swagger-ui/swagger-ui-bundle.js",
            swagger_css_url=f"{VENDOR}/swagger-ui/swagger-ui.css",
            swagger_favicon_url=f"{VENDOR}/swagger-ui/favicon-32x32.png"))

    @app.get("/redoc", include_in_schema=False)
    async def redoc() -> HTMLResponse:
        return _page(get_redoc_html(
            openapi_url=OPENAPI_URL, title=f"{app.title} API", redoc_js_url=f"{VENDOR}/redoc/redoc.standalone.js",
            redoc_favicon_url=f"{VENDOR}/swagger-ui/favicon-32x32.png", with_google_fonts=False))
