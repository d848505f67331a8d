"""One contract for the S3 object store (on moto) and its in-memory twin (tests/fakes)."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from shared.adapters.aws import error_code
from shared.adapters.storage import ObjectGone, ObjectStore
from tests.contract.conftest import REGION
from tests.fakes import InMemoryObjectStore

_buckets = itertools.count(1)


@dataclass
class Backend:
    store: ObjectStore | InMemoryObjectStore
    content_type: Callable[[str], str | None]  # what the bucket says a stored object's type is


@pytest.fixture(params=["s3", "memory"])
def backend(request: pytest.FixtureRequest) -> Backend:
    bucket = f"opslayer-contract-{next(_buckets)}"
    if request.param == "memory":
        fake = InMemoryObjectStore(bucket)
        return Backend(fake, fake.content_type)
    request.getfixturevalue("aws")
    import boto3

    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket=bucket)
    return Backend(ObjectStore(bucket, client=s3),
                   lambda key: s3.head_object(Bucket=bucket, Key=key)["ContentType"])


def test_put_then_read_size_and_head(backend: Backend) -> None:
    store = backend.store
    body = b"\xff\xd8\xff-jpeg-bytes"
    store.put("photos/a.jpg", body, "image/jpeg")
    assert store.read("photos/a.jpg") == body
    assert store.size("photos/a.jpg") == len(body)
    assert store.head("photos/a.jpg", 3) == b"\xff\xd8\xff"
    assert store.head("photos/a.jpg", 100) == body
    assert backend.content_type("photos/a.jpg") == "image/jpeg"
    store.put("photos/a.jpg", b"new", "image/png")  # a put replaces
    assert (store.read("photos/a.jpg"), backend.content_type("photos/a.jpg")) == (b"new", "image/png")


def test_missing_objects(backend: Backend) -> None:
    store = backend.store
    assert store.size("nothing") is None
    with pytest.raises(ObjectGone):
        store.head("nothing", 10)
    with pytest.raises(Exception) as caught:
        store.read("nothing")
    assert error_code(caught.value) == "NoSuchKey"
    with pytest.raises(ObjectGone):
        store.copy("nothing", "target", "image/png")
    assert store.size("target") is None


def test_copy_sets_the_checked_content_type(backend: Backend) -> None:
    store = backend.store
    store.put("uploads/x", b"%PDF-1.7", "application/octet-stream")
    store.copy("uploads/x", "checked/x.pdf", "application/pdf")
    assert store.read("checked/x.pdf") == b"%PDF-1.7"
    assert backend.content_type("checked/x.pdf") == "application/pdf"
    assert store.size("uploads/x") == 8  # the source stays until deleted


def test_delete_is_idempotent(backend: Backend) -> None:
    store = backend.store
    store.put("k", b"1", "text/plain")
    store.delete("k")
    store.delete("k")
    assert store.size("k") is None


def test_upload_slot_names_the_key_and_pins_type_and_redirect(backend: Backend) -> None:
    slot = backend.store.upload_slot("uploads/wo-1/p1", 5_000_000, 300, content_type="image/jpeg",
                                     redirect="https://opslayer.test/done")
    assert slot["url"].startswith("https://")
    fields = slot["fields"]
    assert fields["key"] == "uploads/wo-1/p1"
    assert fields["Content-Type"] == "image/jpeg"
    assert fields["success_action_redirect"] == "https://opslayer.test/done"
    bare = backend.store.upload_slot("uploads/wo-1/p2", 1000, 60)["fields"]
    assert bare["key"] == "uploads/wo-1/p2" and "Content-Type" not in bare and "success_action_redirect" not in bare


def test_view_url_points_at_the_key(backend: Backend) -> None:
    url = backend.store.view_url("checked/wo-1/p1.jpg", 900)
    assert url.startswith("https://") and "checked/wo-1/p1.jpg" in url
