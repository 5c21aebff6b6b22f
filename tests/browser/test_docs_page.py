"""The /docs page: Swagger UI from the package's own files, in a real headless Chromium against real gunicorn."""

from __future__ import annotations

import http.client
import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests
import yaml
from playwright.sync_api import Browser, Page, Request, expect
from swagger_ui_bundle import swagger_ui_path

from tests.support.browser import screenshot
from tests.support.servers import Server

HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


def spec_operations(server: Server) -> set[tuple[str, str]]:
    spec = yaml.safe_load(requests.get(server.url + "/openapi.yaml", timeout=10).text)
    return {(method.upper(), path) for path, item in spec["paths"].items() for method in item if method in HTTP_METHODS}


@pytest.mark.gunicorn
def test_the_page_shows_every_operation_and_runs_assess_without_leaving_the_host(server: Server,
                                                                                 page: Page) -> None:
    requested: list[Request] = []
    problems: list[str] = []
    page.on("request", lambda request: requested.append(request))
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)

    page.goto(server.url + "/docs")
    page.locator(".opblock").first.wait_for()
    rendered = {(block.locator(".opblock-summary-method").inner_text().strip(),
                 block.locator(".opblock-summary-path").get_attribute("data-path"))
                for block in page.locator(".opblock").all()}
    assert rendered == spec_operations(server)
    expect(page.locator(".info .title")).to_contain_text("Strategy-scoring service")
    screenshot(page, "docs-operations")

    operation = page.locator(".opblock-post").filter(has=page.locator('.opblock-summary-path[data-path="/assess"]'))
    operation.locator(".opblock-summary").click()
    operation.get_by_role("button", name="Try it out").click()
    body = operation.locator(".body-param textarea")
    expect(body).to_contain_text('"segment"')  # the spec's example profile, filled in by Swagger UI
    with page.expect_response(lambda r: urlsplit(r.url).path == "/assess" and r.request.method == "POST") as answer:
        operation.get_by_role("button", name="Execute").click()
    response = answer.value
    assert response.status == 200
    assert response.json()["recommendation"] in {"relational", "transactional", "hybrid"}
    live = operation.locator(".live-responses-table .response")
    expect(live.locator(".response-col_status")).to_have_text("200")
    expect(live.locator(".response-col_description")).to_contain_text('"recommendation"')
    screenshot(page, "docs-try-it-out")

    origin = urlsplit(server.url)
    assert requested, "the page made requests"
    for request in requested:
        url = urlsplit(request.url)
        assert (url.scheme, url.netloc) == (origin.scheme, origin.netloc), f"the page reached out: {request.url}"
    paths = {urlsplit(request.url).path for request in requested}
    assert {"/docs", "/docs/assets/swagger-ui-bundle.js", "/docs/assets/swagger-ui.css", "/openapi.yaml",
            "/assess"} <= paths
    assert not problems, problems


@pytest.mark.gunicorn
def test_the_page_cannot_be_made_to_load_from_elsewhere(browser: Browser, server: Server) -> None:
    """The Content-Security-Policy stops the browser even if something on the page asks for an outside file."""
    context = browser.new_context()
    try:
        page = context.new_page()
        attempted: list[str] = []
        context.route("http://example.invalid/**", lambda route: (attempted.append(route.request.url),
                                                                  route.fulfill(body="x")))
        violations: list[str] = []
        page.on("console", lambda message: violations.append(message.text))
        page.goto(server.url + "/docs")
        page.locator(".opblock").first.wait_for()
        page.evaluate("""() => {
            const image = document.createElement('img'); image.src = 'http://example.invalid/pixel.png';
            document.body.append(image);
            const script = document.createElement('script'); script.src = 'http://example.invalid/x.js';
            document.body.append(script);
            return fetch('http://example.invalid/data').catch(() => null);
        }""")
        page.wait_for_timeout(200)
        assert attempted == []
        assert sum("Content Security Policy" in v for v in violations) >= 3, violations
    finally:
        context.close()


@pytest.mark.gunicorn
def test_the_assets_are_the_packages_files_and_nothing_else(server: Server) -> None:
    html = requests.get(server.url + "/docs", timeout=10)
    assert html.status_code == 200 and html.headers["Content-Type"].startswith("text/html")
    policy = html.headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "script-src 'self'" in policy and "connect-src 'self'" in policy
    assert "://" not in html.text, "every URL on the page is relative to this service"
    urls = re.findall(r'(?:src|href|data-spec-url)="([^"]*)"', html.text)
    assert len(urls) == 5 and all(url.startswith(("/docs/", "/openapi.yaml")) for url in urls), urls

    asset = requests.get(server.url + "/docs/assets/swagger-ui-bundle.js", timeout=10)
    assert asset.status_code == 200
    assert asset.content == (Path(str(swagger_ui_path)) / "swagger-ui-bundle.js").read_bytes()
    assert "max-age" in asset.headers["Cache-Control"]

    # raw request lines, as a client that does not normalise the path would send them
    host, port = urlsplit(server.url).netloc.split(":")

    def get(path: str) -> http.client.HTTPResponse:
        connection = http.client.HTTPConnection(host, int(port), timeout=10)
        try:
            connection.request("GET", path)
            response = connection.getresponse()
            response.read()
            return response
        finally:
            connection.close()

    for path in ("/docs/assets/../../app.py", "/docs/assets/%2e%2e/%2e%2e/app.py", "/docs/assets/..%2f..%2fapp.py",
                 "/docs/assets/%2fetc%2fpasswd", "/docs/assets//etc/passwd", "/docs/assets/no-such-file.js",
                 "/docs/assets/"):
        response = get(path)
        if response.status == 308:  # werkzeug merges a double slash, staying inside /docs/assets/
            location = urlsplit(response.getheader("Location", ""))
            assert location.path.startswith("/docs/assets/"), (path, location)
            response = get(location.path)
        assert response.status == 404, (path, response.status)
        assert response.getheader("Content-Type") == "application/problem+json"
