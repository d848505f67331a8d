import base64
import json

import pytest

from shared.domain import links
from shared.domain.errors import LinkRejected

KEY = b"k" * 64


def test_round_trip_carries_scope_and_expiry():
    token = links.issue("wo-1", "vendor", "v-9", 60, KEY, now=1000)
    scope = links.verify(token, KEY, now=1059)
    assert scope == links.LinkScope("wo-1", "vendor", "v-9", links.VENDOR_ACTIONS, 1060)


def test_expired_link_is_rejected_with_its_reason():
    token = links.issue("wo-1", "tenant", "u-1", 60, KEY, now=1000)
    with pytest.raises(LinkRejected) as exc:
        links.verify(token, KEY, now=1061)
    assert exc.value.details == {"reason": "expired"}


@pytest.mark.parametrize("mangle", [
    lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BB"),           # MAC changed
    lambda t: t.replace("v1.", "v2.", 1),                                   # unknown version
    lambda t: "garbage",
    lambda t: "",
    lambda t: t + ".extra",
])
def test_tampered_tokens_are_invalid(mangle):
    token = links.issue("wo-1", "vendor", "v-9", 60, KEY)
    with pytest.raises(LinkRejected) as exc:
        links.verify(mangle(token), KEY)
    assert exc.value.details == {"reason": "invalid"}


def test_payload_edit_breaks_the_signature():
    token = links.issue("wo-1", "vendor", "v-9", 60, KEY)
    version, payload, mac = token.split(".")
    body = json.loads(base64.urlsafe_b64decode(payload + "=="))
    body["w"] = "wo-2"
    forged = base64.urlsafe_b64encode(json.dumps(body).encode()).rstrip(b"=").decode()
    with pytest.raises(LinkRejected):
        links.verify(f"{version}.{forged}.{mac}", KEY)


def test_other_key_rejects():
    token = links.issue("wo-1", "vendor", "v-9", 60, KEY)
    with pytest.raises(LinkRejected):
        links.verify(token, b"other" * 10)


def test_scope_checks_work_order_party_and_action():
    scope = links.verify(links.issue("wo-1", "tenant", "u-1", 60, KEY), KEY)
    links.require(scope, "wo-1", "tenant", "feedback")
    for wo, party, action in [("wo-2", "tenant", "view"), ("wo-1", "vendor", "view"), ("wo-1", "tenant", "accept")]:
        with pytest.raises(LinkRejected) as exc:
            links.require(scope, wo, party, action)
        assert exc.value.details == {"reason": "out_of_scope"}
