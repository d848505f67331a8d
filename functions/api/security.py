"""The security headers every API response carries, chosen in one place (the app's middleware).

Pages get a strict Content-Security-Policy: nothing loads unless listed. Scripts only from our own
origin (no inline script, no event-handler attributes: tests/service/test_security_headers.py checks the
templates); the page's own inline ``<style>`` is allowed by its SHA-256 hash, computed from the body
actually sent, so no other inline style can run. Photos are shown from and uploaded to the photo bucket
(presigned URLs), so its origin is allowed for images, form posts and the upload script's fetch. No page
may be framed. HSTS is only sent when the request came over HTTPS (API Gateway always; the local
cloud's server is plain HTTP on 127.0.0.1 and must not pin a browser to HTTPS for localhost)."""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterable, Mapping
from urllib.parse import urlsplit

HSTS = "max-age=31536000; includeSubDomains"
COMMON = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer", "X-Frame-Options": "DENY",
          "Cache-Control": "no-store"}
# Not a page (JSON, CSV, TwiML, redirects, the script): nothing may load and nothing may frame it.
NOT_A_PAGE_POLICY = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
SELF = "'self'"
_STYLE = re.compile(r"<style>(.*?)</style>", re.DOTALL)


def origin(url: str) -> str | None:
    """``scheme://host[:port]`` of an absolute URL, None for a relative one."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme in ("http", "https") and parts.netloc else None


def style_hashes(html: str) -> list[str]:
    """The CSP source for each inline ``<style>`` element of the page, as the browser hashes it."""
    return [f"'sha256-{base64.b64encode(hashlib.sha256(css.encode()).digest()).decode()}'"
            for css in _STYLE.findall(html)]


def page_policy(html: str, media_origins: Iterable[str] = ()) -> str:
    """The Content-Security-Policy of one rendered page."""
    media = " ".join(sorted(set(media_origins)))

    def sources(*items: str) -> str:
        return " ".join(item for item in items if item)

    return "; ".join([
        "default-src 'none'",
        f"img-src {sources(SELF, 'data:', media)}",
        f"style-src {sources(SELF, *style_hashes(html))}",
        "script-src 'self'",
        f"connect-src {sources(SELF, media)}",
        f"form-action {sources(SELF, media)}",
        "frame-ancestors 'none'",
        "base-uri 'none'",
    ])


def is_page(content_type: str) -> bool:
    return content_type.split(";")[0].strip().lower() == "text/html"


def is_https(headers: Mapping[str, str]) -> bool:
    """API Gateway tells the function the browser's scheme in X-Forwarded-Proto."""
    return (headers.get("x-forwarded-proto") or "").split(",")[0].strip().lower() == "https"


def security_headers(content_type: str, body: str, https: bool,
                     media_origins: Iterable[str] = ()) -> dict[str, str]:
    """Every header for one response: the page policy for HTML, the closed policy for anything else."""
    headers = {**COMMON, "Content-Security-Policy": page_policy(body, media_origins) if is_page(content_type)
               else NOT_A_PAGE_POLICY}
    if https:
        headers["Strict-Transport-Security"] = HSTS
    return headers
