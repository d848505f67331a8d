"""Photos as use cases: upload slots for the tenant and the assigned vendor, the check of the real bytes
after each upload (kept and recorded, or deleted and the reason recorded), at most five per party, and
short-lived view links."""

from __future__ import annotations

import pytest

from shared.domain.errors import InvalidTransition, LinkRejected
from shared.domain.workorder import Status
from shared.services.container import Services
from shared.services.photos import check_upload, tenant_may_add, tenant_slot, vendor_may_add, vendor_slot, view_links
from shared.services.workorders import cancel
from tests.fakes import InMemoryObjectStore
from tests.service.journeys import accepted, offered, tenant_token, triaged

UNIT = "unit-maple-1a"
LEAK = "The bathroom faucet drips constantly"
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 2048
JPEG = b"\xff\xd8\xff\xe0" + b"\0" * 100


def store(svc: Services) -> InMemoryObjectStore:
    return svc.photo_store()


def upload(svc: Services, key: str, body: bytes, declared: str = "image/png") -> str:
    """The browser posts the file to its slot; S3 announces it; the check runs."""
    store(svc).put(key, body, declared)
    return check_upload(svc, store(svc), key)


def events(svc: Services, wo_id: str, event: str) -> list[str]:
    return [e.detail for e in svc.repo.get_work_order(wo_id, with_timeline=True).timeline if e.event == event]


# ---------------------------------------------------------------- slots
def test_the_tenant_gets_a_slot_for_one_exact_key_with_the_limits(svc: Services) -> None:
    wo = triaged(svc, UNIT, LEAK).wo
    slot = tenant_slot(svc, wo.id, tenant_token(svc, wo), "image/png", "https://opslayer.test/done")
    assert slot["key"].startswith(f"uploads/{wo.id}/tenant/")
    assert (slot["max_bytes"], slot["expires_in"], slot["photos"], slot["limit"]) == (10485760, 900, 0, 5)
    assert slot["fields"]["key"] == slot["key"] and slot["url"] == store(svc).url
    assert store(svc).slots[slot["key"]] == {"max_bytes": 10485760, "expires": 900, "content_type": "image/png",
                                             "redirect": "https://opslayer.test/done"}


def test_a_slot_needs_the_tenants_own_link(svc: Services) -> None:
    wo = triaged(svc, UNIT, LEAK).wo
    other = triaged(svc, "unit-maple-1b", LEAK).wo
    with pytest.raises(LinkRejected):
        tenant_slot(svc, wo.id, None)
    with pytest.raises(LinkRejected):
        tenant_slot(svc, wo.id, tenant_token(svc, other))
    assert store(svc).slots == {}


def test_no_slot_once_the_request_is_closed(svc: Services) -> None:
    wo = triaged(svc, UNIT, LEAK).wo
    token = tenant_token(svc, wo)
    closed = svc.repo.get_work_order(wo.id)
    svc.repo.save(closed.model_copy(update={"status": Status.CLOSED}), closed.version)
    with pytest.raises(InvalidTransition, match="the request is closed"):
        tenant_slot(svc, wo.id, token)
    assert not tenant_may_add(svc.repo.get_work_order(wo.id))


def test_a_cancelled_requests_link_no_longer_gets_a_slot(svc: Services) -> None:
    wo = triaged(svc, UNIT, LEAK).wo
    token = tenant_token(svc, wo)
    cancel(svc, wo.id, "duplicate request")
    with pytest.raises(LinkRejected):
        tenant_slot(svc, wo.id, token)


def test_the_assigned_vendor_gets_a_slot_but_not_before_accepting(svc: Services) -> None:
    job = offered(svc, UNIT, LEAK)
    with pytest.raises(InvalidTransition, match="the job is offered"):
        vendor_slot(svc, job.vendor_token)
    assert not vendor_may_add(job.wo, "ven-aqua")
    job = accepted(svc, "unit-maple-1b", LEAK)
    slot = vendor_slot(svc, job.vendor_token, "image/jpeg")
    assert slot["key"].startswith(f"uploads/{job.id}/vendor/")
    assert vendor_may_add(job.wo, "ven-aqua") and not vendor_may_add(job.wo, "ven-pipeline")


# ---------------------------------------------------------------- the check
def test_an_image_is_kept_recorded_and_announced(svc: Services) -> None:
    wo = triaged(svc, UNIT, LEAK).wo
    key = tenant_slot(svc, wo.id, tenant_token(svc, wo))["key"]
    assert upload(svc, key, PNG, declared="application/octet-stream") == "accepted"

    kept = key.replace("uploads/", "photos/", 1)
    assert key not in store(svc).objects
    assert store(svc).objects[kept].body == PNG and store(svc).objects[kept].content_type == "image/png"
    [photo] = svc.repo.get_work_order(wo.id).photos
    assert (photo.key, photo.upload_key, photo.party, photo.content_type, photo.size) == (
        kept, key, "tenant", "image/png", len(PNG))
    assert photo.uploaded_at == svc.clock()
    assert events(svc, wo.id, "photo_added") == ["Photo added by the tenant (image/png, 2 KB)"]
    assert svc.events.last("PhotoAdded") == {"work_order_id": wo.id, "status": "triaged",
                                             "event_key": f"{wo.id}:photo:{key.rsplit('/', 1)[-1]}",
                                             "party": "tenant"}


def test_the_same_upload_event_twice_records_one_photo(svc: Services) -> None:
    wo = triaged(svc, UNIT, LEAK).wo
    key = tenant_slot(svc, wo.id, tenant_token(svc, wo))["key"]
    assert upload(svc, key, PNG) == "accepted"
    assert check_upload(svc, store(svc), key) == "duplicate"  # EventBridge delivered it again
    store(svc).put(key, PNG, "image/png")  # or the object is still there
    assert check_upload(svc, store(svc), key) == "duplicate"
    assert key not in store(svc).objects
    assert len(svc.repo.get_work_order(wo.id).photos) == 1
    assert len(svc.events.of_type("PhotoAdded")) == 1


def test_an_event_for_an_object_already_gone_does_nothing(svc: Services) -> None:
    wo = triaged(svc, UNIT, LEAK).wo
    key = tenant_slot(svc, wo.id, tenant_token(svc, wo))["key"]
    assert check_upload(svc, store(svc), key) == "gone"
    assert svc.repo.get_work_order(wo.id).photos == []


@pytest.mark.parametrize(("body", "reason"), [
    (b"GIF89a" + b"\0" * 50, "the file is not a JPEG, PNG, WebP or HEIC image"),
    (b"<html><script>alert(1)</script></html>", "the file is not a JPEG, PNG, WebP or HEIC image"),
    (b"", "the file is empty"),
])
def test_the_check_judges_the_real_bytes_not_the_declared_type(svc: Services, body: bytes, reason: str) -> None:
    wo = triaged(svc, UNIT, LEAK).wo
    key = tenant_slot(svc, wo.id, tenant_token(svc, wo))["key"]
    assert upload(svc, key, body, declared="image/png") == "rejected"
    assert store(svc).objects == {}
    assert svc.repo.get_work_order(wo.id).photos == []
    assert events(svc, wo.id, "photo_rejected") == [f"Photo from the tenant not kept: {reason}"]


def test_a_file_over_the_size_limit_is_rejected(svc: Services) -> None:
    wo = triaged(svc, UNIT, LEAK).wo
    key = tenant_slot(svc, wo.id, tenant_token(svc, wo))["key"]
    assert upload(svc, key, JPEG + b"\0" * 10485760) == "rejected"
    assert events(svc, wo.id, "photo_rejected") == ["Photo from the tenant not kept: the file is larger than 10 MB"]


def test_an_upload_with_a_key_we_never_issued_is_deleted(svc: Services) -> None:
    wo = triaged(svc, UNIT, LEAK).wo
    for key in ("uploads/whatever.png", f"uploads/{wo.id}/owner/abcdefghijklmnopqrstuvwx"):
        assert upload(svc, key, PNG) == "unknown_key"
    assert store(svc).objects == {}


def test_an_upload_for_a_work_order_that_does_not_exist_is_deleted(svc: Services) -> None:
    from shared.domain.photos import upload_key

    key = upload_key("wo-0000000000000000000", "tenant")
    assert upload(svc, key, PNG) == "unknown_work_order"
    assert store(svc).objects == {}


def test_at_most_five_photos_per_party(svc: Services) -> None:
    wo = triaged(svc, UNIT, LEAK).wo
    token = tenant_token(svc, wo)
    keys = [tenant_slot(svc, wo.id, token)["key"] for _ in range(6)]  # six slots taken before any upload
    assert [upload(svc, k, PNG) for k in keys[:5]] == ["accepted"] * 5
    assert upload(svc, keys[5], PNG) == "rejected"
    assert events(svc, wo.id, "photo_rejected") == [
        "Photo from the tenant not kept: the work order already has 5 photos from the tenant"]
    assert sorted(store(svc).objects) == sorted(k.replace("uploads/", "photos/", 1) for k in keys[:5])
    with pytest.raises(InvalidTransition, match="already has 5 photos"):
        tenant_slot(svc, wo.id, token)
    assert not tenant_may_add(svc.repo.get_work_order(wo.id))


def test_the_vendor_has_five_of_their_own(svc: Services) -> None:
    job = accepted(svc, UNIT, LEAK)
    tenant_key = tenant_slot(svc, job.id, tenant_token(svc, job.wo))["key"]
    vendor_key = vendor_slot(svc, job.vendor_token)["key"]
    assert upload(svc, tenant_key, PNG) == upload(svc, vendor_key, JPEG) == "accepted"
    assert sorted(p.party for p in svc.repo.get_work_order(job.id).photos) == ["tenant", "vendor"]
    assert vendor_slot(svc, job.vendor_token)["photos"] == 1


# ---------------------------------------------------------------- view links
def test_view_links_are_short_lived_and_only_for_kept_photos(svc: Services) -> None:
    wo = triaged(svc, UNIT, LEAK).wo
    assert view_links(svc, wo) == []
    key = tenant_slot(svc, wo.id, tenant_token(svc, wo))["key"]
    upload(svc, key, PNG)
    [link] = view_links(svc, svc.repo.get_work_order(wo.id))
    kept = key.replace("uploads/", "photos/", 1)
    assert link == {"url": f"{store(svc).url}{kept}?expires=600", "party": "tenant", "content_type": "image/png",
                    "size": len(PNG), "uploaded_at": svc.clock().isoformat()}


def test_a_concurrent_delivery_that_recorded_the_photo_first_leaves_one_photo(svc: Services,
                                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    wo = triaged(svc, UNIT, LEAK).wo
    key = tenant_slot(svc, wo.id, tenant_token(svc, wo))["key"]
    before = svc.repo.get_work_order(wo.id)  # what the second delivery read before the first one saved
    assert upload(svc, key, PNG) == "accepted"
    store(svc).put(key, PNG, "image/png")  # the second delivery still sees the upload
    reads = iter([before])
    real_get = svc.repo.get_work_order
    monkeypatch.setattr(svc.repo, "get_work_order", lambda wo_id, **kw: next(reads, None) or real_get(wo_id, **kw))

    assert check_upload(svc, store(svc), key) == "duplicate"
    monkeypatch.undo()
    assert len(svc.repo.get_work_order(wo.id).photos) == 1
    assert key not in store(svc).objects
    assert len(svc.events.of_type("PhotoAdded")) == 1
