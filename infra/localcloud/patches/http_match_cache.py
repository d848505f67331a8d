"""Patch: moto's HTTP interception parses a request's URL once, not once per AWS URL pattern it knows.

``mock_aws`` routes every ``requests`` call of the process through the ``responses`` library (handlers
calling the fake Buildium, the API's HTTP clients): each request is compared with every URL pattern moto
registers for its method - several hundred - and for each string pattern ``responses`` re-parses both URLs
(``_get_url_and_path``: ``urlsplit`` + ``urlunparse`` + urllib3's ``parse_url``) and scans the pattern for
non-ASCII characters (``_has_unicode``). That was about a tenth of the local cloud's CPU on the request ->
vendor-offer path, most of it for requests no pattern matches (they pass through to the real server).
Both functions are pure functions of one string: here each answer is kept (bounded), so the same patterns
are compared with the same parsed URL and every request matches, or passes through, exactly as before
(speed only).
"""

from __future__ import annotations

import functools
import threading

_applied = False
_lock = threading.Lock()
CACHED = 4096  # distinct URLs and patterns kept (moto's patterns are a few hundred; requests add their own)
MAX_KEPT_CHARS = 2048


def apply() -> None:
    """Idempotent."""
    global _applied
    with _lock:
        if _applied:
            return
        import responses

        responses._get_url_and_path = functools.lru_cache(CACHED)(responses._get_url_and_path)
        has_unicode = responses._has_unicode
        cached_has_unicode = functools.lru_cache(CACHED)(has_unicode)

        def _has_unicode(s: str) -> bool:
            # URLs and patterns are kept; a long string (a registered response's body) is scanned as before.
            return cached_has_unicode(s) if len(s) <= MAX_KEPT_CHARS else has_unicode(s)

        responses._has_unicode = _has_unicode
        _applied = True
