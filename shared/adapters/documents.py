"""Invoice attachments and other documents in S3 (the documents bucket, KMS-encrypted)."""

from __future__ import annotations

from typing import Any

from shared.adapters.aws import client as aws_client


class DocumentStore:
    def __init__(self, bucket: str, client: Any = None) -> None:
        self.bucket = bucket
        self._client = client

    @property
    def s3(self) -> Any:
        return self._client or aws_client("s3")

    def put(self, key: str, data: bytes, content_type: str) -> None:
        self.s3.put_object(Bucket=self.bucket, Key=key, Body=data, ContentType=content_type)

    def get(self, key: str) -> bytes:
        return self.s3.get_object(Bucket=self.bucket, Key=key)["Body"].read()

    def link(self, key: str, ttl_seconds: int = 900) -> str:
        """A short-lived download link (for ops pages and reports; never logged)."""
        return self.s3.generate_presigned_url("get_object", Params={"Bucket": self.bucket, "Key": key},
                                              ExpiresIn=ttl_seconds)
