"""Security headers through the real routes: every route of the app, called with a browser's Accept, answers
with the common headers, and every HTML answer (pages, error pages) with the strict page policy. The route
list comes from the app, so a new route is covered without editing this file. The templates hold no inline
script and no event-handler attributes (the policy would block them: a page would silently break)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from functions.api import security
from shared.services import container, views
from shared.services.container import Services
from tests.fakes.services import OPS_KEY
from tests.lambda_modules import every_setting, fresh_import
from tests.service.journeys import completed, submit

TEMPLATES = Path(__file__).resolve().parents[2] / "functions" / "api" / "templates"
BROWSER = {"accept": "text/html,application/xhtml+xml,*/*;q=0.8", "x-ops-key": OPS_KEY}
PLACEHOLDER = re.compile(r"\{[^}]+\}")


@pytest.fixture
def client(svc: Services, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The Chalice app in process (its middleware included) on the service test's fakes."""
    from chalice.test import Client

    with fresh_import("functions.api.app", every_setting()) as module:
        monkeypatch.setattr(container, "settings", lambda: svc.settings)
        monkeypatch.setitem(container._built, id(svc.settings), svc)
        with Client(module.app) as test_client:
            test_client.app = module.app
            yield test_client


def call(client: Any, method: str, path: str, headers: dict[str, str] | None = None) -> Any:
    return client.http.request(method, path, headers={**BROWSER, **(headers or {})}, body=b"")


def assert_common(response: Any, https: bool = False) -> None:
    for name, value in security.COMMON.items():
        assert response.headers.get(name) is not None, name
        if name != "Cache-Control":
            assert response.headers[name] == value, name
    assert ("Strict-Transport-Security" in response.headers) is https


def assert_page_policy(response: Any, photos: str) -> None:
    """The strict policy, with exactly the page's own inline style allowed by hash and the photo bucket's
    origin (`photos`) allowed for images, uploads and the upload script's fetch."""
    policy = dict(part.strip().split(" ", 1) for part in response.headers["Content-Security-Policy"].split(";"))
    assert policy["default-src"] == "'none'"
    assert policy["script-src"] == "'self'"
    assert policy["frame-ancestors"] == "'none'" and policy["base-uri"] == "'none'"
    assert "'unsafe-inline'" not in response.headers["Content-Security-Policy"]
    body = response.body.decode()
    hashes = security.style_hashes(body)
    assert hashes and policy["style-src"].split() == ["'self'", *hashes]
    assert policy["img-src"].split() == ["'self'", "data:", photos]
    assert policy["connect-src"].split() == policy["form-action"].split() == ["'self'", photos]


def photo_origin(svc: Services) -> str:
    return str(security.origin(svc.photo_store().view_url("any", 60)))


def test_every_route_answers_with_the_security_headers_and_html_with_the_page_policy(client: Any,
                                                                                     svc: Services) -> None:
    pages = 0
    for path, methods in client.app.routes.items():
        for method in methods:
            response = call(client, method, PLACEHOLDER.sub("x", path))
            assert_common(response)
            content_type = response.headers.get("Content-Type", "")
            if content_type.startswith("text/html"):
                pages += 1
                assert_page_policy(response, photo_origin(svc))
            else:
                assert response.headers["Content-Security-Policy"] == security.NOT_A_PAGE_POLICY, (method, path)
    assert pages >= 20  # the link pages' error pages are HTML for a browser


def test_the_pages_people_open_carry_the_policy_and_https_adds_hsts(client: Any, svc: Services) -> None:
    from functions.api import pages

    wo = submit(svc, "unit-maple-1a", "The kitchen tap drips.")
    job = completed(svc, "unit-maple-2b", "The radiator is cold.")
    unit_link = views.unit_request_link(svc, "unit-maple-1a", "")
    paths = [views.tenant_link(svc, wo, ""), unit_link, views.vendor_link(svc, job.wo, job.vendor_id, ""),
             f"/ops/work-orders/{wo.id}/report"]
    for path in paths:
        response = call(client, "GET", path)
        assert response.status_code == 200, (path, response.body[:300])
        assert response.headers["Content-Type"].startswith("text/html")
        assert_common(response)
        assert_page_policy(response, photo_origin(svc))
    secure = call(client, "GET", paths[0], {"x-forwarded-proto": "https"})
    assert_common(secure, https=True)
    assert secure.headers["Strict-Transport-Security"] == security.HSTS

    form = call(client, "GET", unit_link).body.decode()
    assert f'<script src="{pages.PHOTO_SCRIPT}" defer></script>' in form
    script = call(client, "GET", pages.PHOTO_SCRIPT)
    assert script.status_code == 200 and script.headers["Content-Type"].startswith("text/javascript")
    assert script.body.decode() == pages.photo_upload_script()
    assert_common(script)


def test_no_template_has_inline_script_or_event_handlers() -> None:
    for template in TEMPLATES.glob("*.html"):
        text = template.read_text(encoding="utf-8")
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text, re.IGNORECASE), template.name
        assert not re.search(r"\son[a-z]+\s*=", text, re.IGNORECASE), template.name
        assert not re.search(r"\sstyle\s*=", text, re.IGNORECASE), template.name  # not allowed by the policy
        assert not re.search(r"=\s*[\"']?\s*javascript:", text, re.IGNORECASE), template.name
