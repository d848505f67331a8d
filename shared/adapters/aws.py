"""Lazy, cached boto3 clients. Never created at import time: moto must start first, and warm
Lambdas must reuse them. boto3 itself is imported on first use to keep handler imports lean."""

from __future__ import annotations

import os
import threading
from typing import Any

_clients: dict[tuple[str, str | None, str | None], Any] = {}
_lock = threading.Lock()


def client(service: str) -> Any:
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    # A service's own endpoint first (boto3's AWS_ENDPOINT_URL_<SERVICE> convention), then the global one.
    endpoint = os.environ.get(f"AWS_ENDPOINT_URL_{service.upper().replace('-', '_')}") \
        or os.environ.get("AWS_ENDPOINT_URL")
    key = (service, region, endpoint)
    found = _clients.get(key)
    if found is None:
        with _lock:
            found = _clients.get(key)
            if found is None:
                import boto3
                from botocore.config import Config

                config = Config(retries={"mode": "standard", "max_attempts": 4}, connect_timeout=2, read_timeout=5,
                                # presigned S3 URLs and POST policies: SigV4 (scoped to region and service)
                                **({"signature_version": "s3v4"} if service == "s3" else {}))
                found = boto3.session.Session().client(service, region_name=region, endpoint_url=endpoint,
                                                       config=config)
                _clients[key] = found
    return found


def error_code(exc: BaseException) -> str | None:
    """The AWS error code of a botocore ClientError, else None."""
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        return response.get("Error", {}).get("Code")
    return None
