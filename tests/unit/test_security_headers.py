"""The security-header rules on their own (the routes carry them: tests/service/test_security_headers.py)."""

from __future__ import annotations

import pytest

from functions.api import security


def test_an_inline_style_is_allowed_by_the_hash_browsers_compute():
    # The CSP spec's example: sha256 of "alert('Hello, world.');" is qznLcsROx4GACP2dm0UCKCzCG+HiZ1guq6ZZDob/Tng=
    html = "<head><style>alert('Hello, world.');</style></head><body><style>\np{}\n</style>"
    hashes = security.style_hashes(html)
    assert hashes[0] == "'sha256-qznLcsROx4GACP2dm0UCKCzCG+HiZ1guq6ZZDob/Tng='" and len(hashes) == 2
    policy = security.page_policy(html, ["https://photos.s3.amazonaws.com"])
    assert f"style-src 'self' {hashes[0]} {hashes[1]};" in policy
    assert "img-src 'self' data: https://photos.s3.amazonaws.com;" in policy
    assert "script-src 'self';" in policy and "unsafe" not in policy


def test_only_pages_get_the_page_policy_and_only_https_gets_hsts():
    page = security.security_headers("text/html; charset=utf-8", "<style>p{}</style>", https=True)
    data = security.security_headers("application/json", "", https=False)
    assert page["Strict-Transport-Security"] == security.HSTS and "Strict-Transport-Security" not in data
    assert "frame-ancestors 'none'" in page["Content-Security-Policy"]
    assert data["Content-Security-Policy"] == security.NOT_A_PAGE_POLICY
    assert page["X-Content-Type-Options"] == data["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize(("headers", "expected"), [
    ({"x-forwarded-proto": "https"}, True), ({"x-forwarded-proto": "HTTPS, http"}, True),
    ({"x-forwarded-proto": "http"}, False), ({}, False)])
def test_https_is_what_api_gateway_says_the_browser_used(headers, expected):
    assert security.is_https(headers) is expected


def test_the_origin_of_a_presigned_url():
    assert security.origin("https://b.s3.amazonaws.com/k?X-Amz-Signature=1") == "https://b.s3.amazonaws.com"
    assert security.origin("http://127.0.0.1:4566/bucket/k") == "http://127.0.0.1:4566"
    assert security.origin("/relative") is None
