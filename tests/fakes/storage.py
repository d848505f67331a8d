"""Twin of shared/adapters/storage.py::ObjectStore, and a bucket factory for `Services.object_store`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from shared.adapters.storage import ObjectGone
from tests.fakes.table import AwsError


@dataclass(frozen=True)
class StoredObject:
    body: bytes
    content_type: str


class InMemoryObjectStore:
    """One bucket. Presigned slots and view links are deterministic fake URLs (nothing serves them): a
    test uploads with `put` as the browser would, after reading the slot's limits from `slots`."""

    def __init__(self, bucket: str) -> None:
        self.bucket = bucket
        self.objects: dict[str, StoredObject] = {}
        self.slots: dict[str, dict[str, Any]] = {}  # key -> the upload policy handed out

    @property
    def url(self) -> str:
        return f"https://{self.bucket}.s3.fake.test/"

    def upload_slot(self, key: str, max_bytes: int, expires: int, content_type: str | None = None,
                    redirect: str | None = None) -> dict[str, Any]:
        fields: dict[str, str] = {"key": key}
        if content_type:
            fields["Content-Type"] = content_type
        if redirect:
            fields["success_action_redirect"] = redirect
        self.slots[key] = {"max_bytes": max_bytes, "expires": expires, "content_type": content_type,
                           "redirect": redirect}
        return {"url": self.url, "fields": fields}

    def view_url(self, key: str, expires: int) -> str:
        return f"{self.url}{quote(key)}?expires={expires}"

    def size(self, key: str) -> int | None:
        found = self.objects.get(key)
        return len(found.body) if found else None

    def head(self, key: str, length: int) -> bytes:
        found = self.objects.get(key)
        if found is None:
            raise ObjectGone(key)
        return found.body[:length]

    def read(self, key: str) -> bytes:
        found = self.objects.get(key)
        if found is None:
            raise AwsError("NoSuchKey", "The specified key does not exist.")
        return found.body

    def put(self, key: str, body: bytes, content_type: str) -> None:
        self.objects[key] = StoredObject(bytes(body), content_type)

    def copy(self, source: str, target: str, content_type: str) -> None:
        found = self.objects.get(source)
        if found is None:
            raise ObjectGone(source)
        self.objects[target] = StoredObject(found.body, content_type)

    def delete(self, key: str) -> None:
        self.objects.pop(key, None)

    def content_type(self, key: str) -> str | None:
        found = self.objects.get(key)
        return found.content_type if found else None


class InMemoryBuckets:
    """`Services.object_store`: bucket name -> the same in-memory store on every call."""

    def __init__(self) -> None:
        self.buckets: dict[str, InMemoryObjectStore] = {}

    def __call__(self, bucket: str) -> InMemoryObjectStore:
        found = self.buckets.get(bucket)
        if found is None:
            found = self.buckets[bucket] = InMemoryObjectStore(bucket)
        return found
