"""Rate limits: fixed one-minute windows per client IP and per link (counted by the link's hash)."""

from __future__ import annotations

import json

from shared.domain import links
from shared.services.container import Services
from shared.services.rate_limits import over_limit

MINUTE = 60 * 29_000_000  # the start of some minute (unix seconds)


def test_an_ip_over_its_limit_is_refused_until_the_next_minute(svc: Services) -> None:
    results = [over_limit(svc.repo, "203.0.113.7", None, ip_limit=3, link_limit=100, now=MINUTE + s)
               for s in (0, 10, 20, 30, 59)]
    assert results == [False, False, False, True, True]
    assert over_limit(svc.repo, "203.0.113.7", None, 3, 100, now=MINUTE + 60) is False
    assert over_limit(svc.repo, "198.51.100.1", None, 3, 100, now=MINUTE + 30) is False  # another IP


def test_a_link_over_its_limit_is_refused_even_from_many_ips(svc: Services) -> None:
    digest = links.digest(links.new_token(), b"pepper")
    results = [over_limit(svc.repo, f"203.0.113.{n}", digest, ip_limit=100, link_limit=2, now=MINUTE + n)
               for n in range(4)]
    assert results == [False, False, True, True]
    other = links.digest(links.new_token(), b"pepper")
    assert over_limit(svc.repo, "203.0.113.9", other, 100, 2, now=MINUTE + 5) is False


def test_counters_expire_and_never_hold_the_token(svc: Services) -> None:
    token = links.new_token()
    digest = links.digest(token, b"pepper")
    over_limit(svc.repo, "203.0.113.7", digest, 10, 10, now=MINUTE)
    counters = {pk: item for (pk, _), item in svc.repo.table.items.items() if pk.startswith("RATE#")}
    assert sorted(counters) == [f"RATE#ip#203.0.113.7#{MINUTE // 60}", f"RATE#link#{digest}#{MINUTE // 60}"]
    assert all(item["n"] == 1 and "expires_at" in item for item in counters.values())
    assert token not in json.dumps(list(svc.repo.table.items.values()))


def test_without_a_time_given_the_wall_clock_minute_is_counted(svc: Services) -> None:
    assert over_limit(svc.repo, "203.0.113.7", None, ip_limit=0, link_limit=0) is True
