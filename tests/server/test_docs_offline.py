"""``/docs`` works without the internet: Swagger UI's script and styles come from this server
(the installed ``swagger-ui-bundle``), not from a CDN."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient


def test_the_docs_pages_load_everything_from_this_server(
    client: TestClient, tokens: dict[str, str]
) -> None:
    headers = {"Authorization": f"Bearer {tokens['user']}"}
    for path in ("/docs", "/redoc"):
        page = client.get(path, headers=headers)
        assert page.status_code == 200, path
        assets = re.findall(r'(?:src|href)="([^"]+)"', page.text)
        assert assets and all(url.startswith("/") for url in assets), assets
        for url in assets:
            served = client.get(url)
            assert served.status_code == 200 and served.content, url
        script = next(url for url in assets if url.endswith(".js"))
        assert "SwaggerUIBundle" in client.get(script).text
        assert "/openapi.json" in page.text
