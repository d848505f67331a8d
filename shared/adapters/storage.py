"""S3 behind a small adapter: presigned upload slots and view links, reads for checks, copies."""

from __future__ import annotations

from typing import Any

from shared.adapters.aws import client as aws_client
from shared.adapters.aws import error_code
from shared.domain.errors import ObjectGone

_MISSING = ("404", "NoSuchKey", "NotFound")

class ObjectStore:
    def __init__(self, bucket: str, client: Any = None) -> None:
        self.bucket = bucket
        self._client = client

    @property
    def s3(self) -> Any:
        if self._client is None:
            self._client = aws_client("s3")
        return self._client

    def upload_slot(self, key: str, max_bytes: int, expires: int, content_type: str | None = None,
                    redirect: str | None = None) -> dict[str, Any]:
        """A presigned POST for exactly `key`, at most `max_bytes`, an image type (pinned when given),
        redirecting the browser to `redirect` afterwards (no-JS forms). S3 enforces the policy."""
        fields: dict[str, str] = {}
        conditions: list[Any] = [["content-length-range", 1, max_bytes]]
        if content_type:
            fields["Content-Type"] = content_type
            conditions.append({"Content-Type": content_type})
        if redirect:
            fields["success_action_redirect"] = redirect
            conditions.append({"success_action_redirect": redirect})
        return self.s3.generate_presigned_post(self.bucket, key, Fields=fields, Conditions=conditions,
                                               ExpiresIn=expires)

    def view_url(self, key: str, expires: int) -> str:
        return self.s3.generate_presigned_url("get_object", Params={"Bucket": self.bucket, "Key": key},
                                              ExpiresIn=expires)

    def size(self, key: str) -> int | None:
        """The stored object's real size, None if it is gone."""
        try:
            return int(self.s3.head_object(Bucket=self.bucket, Key=key)["ContentLength"])
        except Exception as exc:
            if error_code(exc) in _MISSING:
                return None
            raise

    def head(self, key: str, length: int) -> bytes:
        try:
            return self.s3.get_object(Bucket=self.bucket, Key=key, Range=f"bytes=0-{length - 1}")["Body"].read()
        except Exception as exc:
            if error_code(exc) in _MISSING:
                raise ObjectGone(key) from exc
            raise

    def read(self, key: str) -> bytes:
        return self.s3.get_object(Bucket=self.bucket, Key=key)["Body"].read()

    def put(self, key: str, body: bytes, content_type: str) -> None:
        self.s3.put_object(Bucket=self.bucket, Key=key, Body=body, ContentType=content_type)

    def copy(self, source: str, target: str, content_type: str) -> None:
        """Copy with the checked content type (and no metadata the uploader chose)."""
        try:
            self.s3.copy_object(Bucket=self.bucket, Key=target, CopySource={"Bucket": self.bucket, "Key": source},
                                ContentType=content_type, MetadataDirective="REPLACE")
        except Exception as exc:
            if error_code(exc) in _MISSING:
                raise ObjectGone(source) from exc
            raise

    def delete(self, key: str) -> None:
        self.s3.delete_object(Bucket=self.bucket, Key=key)
