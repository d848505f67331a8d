"""The ops CLI's request signing: botocore's SigV4 for execute-api, with fixed credentials and a fixed
time, gives the Authorization header API Gateway's AWS_IAM authorizer checks (botocore does the crypto;
this pins what we feed it: service, region, the headers and the body)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from unittest import mock

import pytest
from botocore.credentials import Credentials

from infra.ops_client import OpsClient, is_local, region_of, sign

URL = "https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com/prod/ops/work-orders?limit=2&status=offered"
WHEN = datetime(2026, 12, 3, 15, 0, 0, tzinfo=UTC)
KEYS = Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")


def signed(credentials: Credentials = KEYS, url: str = URL, body: bytes | None = None) -> dict[str, str]:
    with mock.patch("botocore.auth.get_current_datetime", return_value=WHEN.replace(tzinfo=None)):
        return sign("GET" if body is None else "POST", url, body, {}, credentials, "eu-west-1")


def test_a_request_is_signed_for_execute_api_in_the_urls_region() -> None:
    headers = signed()
    assert headers["X-Amz-Date"] == "20261203T150000Z"
    found = re.fullmatch(r"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261203/eu-west-1/execute-api/aws4_request, "
                         r"SignedHeaders=host;x-amz-date, Signature=([0-9a-f]{64})", headers["Authorization"])
    assert found
    assert signed()["Authorization"] == headers["Authorization"]  # deterministic for the same request
    other_query = signed(url=URL.replace("limit=2", "limit=3"))["Authorization"]
    assert other_query != headers["Authorization"]  # the query string is signed
    assert signed(body=b'{"reason": "x"}')["Authorization"] != signed(body=b'{"reason": "y"}')["Authorization"]


def test_temporary_credentials_carry_their_session_token() -> None:
    headers = signed(Credentials("ASIAEXAMPLE", "secret", token="session-token"))
    assert headers["X-Amz-Security-Token"] == "session-token"
    assert "x-amz-security-token" in headers["Authorization"].split("SignedHeaders=")[1]


def test_where_a_url_points() -> None:
    assert region_of(URL) == "eu-west-1"
    assert region_of("https://ops.example.com/") is None
    assert is_local("http://127.0.0.1:8000") and is_local("http://localhost:8000/")
    assert not is_local(URL)


def test_a_deployed_stack_gets_sigv4_from_the_session_and_never_the_ops_key() -> None:
    session = mock.Mock(region_name="us-east-2")
    session.get_credentials.return_value = KEYS
    client = OpsClient("https://ops.example.com/prod/", session=session)
    assert (client.region, client.ops_key, client.url) == ("us-east-2", None, "https://ops.example.com/prod")
    headers = client.auth_headers("GET", "https://ops.example.com/prod/ops/work-orders", None, {})
    assert "X-Ops-Key" not in headers and "/us-east-2/execute-api/" in headers["Authorization"]


def test_a_local_stack_gets_the_ops_key() -> None:
    client = OpsClient("http://127.0.0.1:8000", ops_key="local-key")
    assert client.auth_headers("GET", "http://127.0.0.1:8000/ops/work-orders", None, {}) == {"X-Ops-Key": "local-key"}


def test_no_credentials_is_a_clear_stop() -> None:
    session = mock.Mock(region_name="us-east-2")
    session.get_credentials.return_value = None
    with pytest.raises(SystemExit, match="no AWS credentials"):
        OpsClient("https://ops.example.com/prod", session=session)
