"""`/docs`: Swagger UI from the app itself (npm-installed `swagger-ui-dist`, served under
`/web/lib/swagger-ui/`), so the interactive documentation works without the internet."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse

router = APIRouter(include_in_schema=False)

ASSETS = "/web/lib/swagger-ui"


@router.get("/docs", name="docs")
async def swagger_ui(request: Request) -> HTMLResponse:
    """The interactive API documentation, every asset a path on this server."""
    root = request.scope.get("root_path", "").rstrip("/")
    openapi_url = request.app.openapi_url or "/openapi.json"
    return get_swagger_ui_html(
        openapi_url=root + openapi_url,
        title=f"{request.app.title} - API documentation",
        swagger_js_url=f"{root}{ASSETS}/swagger-ui-bundle.js",
        swagger_css_url=f"{root}{ASSETS}/swagger-ui.css",
        swagger_favicon_url=f"{root}{ASSETS}/favicon-32x32.png",
        swagger_ui_parameters={"validatorUrl": None},  # no badge fetched from swagger.io
    )
