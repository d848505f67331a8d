"""The ops API from a terminal (`opslayer ops ...`): requests signed with SigV4 for a deployed stack (its
/ops routes are IAM-authorized by API Gateway), or carrying the X-Ops-Key for a local stack (`make local`).

Credentials come from the standard AWS chain of a boto3 Session (environment, profile, SSO, instance
role); botocore's SigV4Auth signs for the `execute-api` service. Nothing here is imported by Lambdas."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit

LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
_EXECUTE_API_HOST = re.compile(r"^[a-z0-9]+\.execute-api\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?$")
SERVICE = "execute-api"


def is_local(url: str) -> bool:
    return (urlsplit(url).hostname or "") in LOCAL_HOSTS


def region_of(url: str) -> str | None:
    """The region in an execute-api URL (None for a custom domain: then the session's region is used)."""
    found = _EXECUTE_API_HOST.match(urlsplit(url).hostname or "")
    return found.group(1) if found else None


def sign(method: str, url: str, body: bytes | None, headers: dict[str, str], credentials: Any,
         region: str) -> dict[str, str]:
    """The headers of the request signed with SigV4 for execute-api (Authorization, X-Amz-Date and, for
    temporary credentials, X-Amz-Security-Token). `credentials`: botocore Credentials (frozen or not)."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest

    request = AWSRequest(method=method, url=url, data=body or b"", headers=dict(headers))
    SigV4Auth(credentials, SERVICE, region).add_auth(request)
    return dict(request.headers.items())


def stack_api_url(stack: str, session: Any) -> str:
    """The ApiUrl output of a deployed stack (needs cloudformation:DescribeStacks, in the ops policy)."""
    outputs = session.client("cloudformation").describe_stacks(StackName=stack)["Stacks"][0].get("Outputs", [])
    for output in outputs:
        if output["OutputKey"] == "ApiUrl":
            return output["OutputValue"]
    raise SystemExit(f"stack {stack} has no ApiUrl output")


def local_ops_key(url: str) -> str:
    """The X-Ops-Key of a running `make local` (it serves it at /_local/demo)."""
    import requests

    resp = requests.get(f"{url.rstrip('/')}/_local/demo", timeout=30)
    resp.raise_for_status()
    return resp.json()["ops_key"]


class OpsError(Exception):
    """The API answered with an error (its JSON body, when it has one, is kept)."""

    def __init__(self, status: int, body: Any) -> None:
        super().__init__(f"HTTP {status}: {json.dumps(body) if not isinstance(body, str) else body}")
        self.status = status
        self.body = body


@dataclass
class OpsClient:
    """`url`: the API base (the stack's ApiUrl, or a local stack's). Local: the ops key (given or read from
    the local stack); otherwise SigV4 with `session`'s credentials (a boto3 Session if none is given)."""

    url: str
    ops_key: str | None = None
    session: Any = None
    region: str | None = None
    timeout: float = 60.0
    _credentials: Any = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self.url = self.url.rstrip("/")
        if is_local(self.url) or self.ops_key:
            self.ops_key = self.ops_key or local_ops_key(self.url)
            return
        if self.session is None:
            import boto3

            self.session = boto3.Session(region_name=self.region)
        self.region = self.region or region_of(self.url) or self.session.region_name
        if not self.region:
            raise SystemExit("no AWS region: pass --region or set AWS_REGION")
        self._credentials = self.session.get_credentials()
        if self._credentials is None:
            raise SystemExit("no AWS credentials found (environment, profile, SSO or instance role)")

    def auth_headers(self, method: str, url: str, body: bytes | None, headers: dict[str, str]) -> dict[str, str]:
        if self.ops_key:
            return {**headers, "X-Ops-Key": self.ops_key}
        return sign(method, url, body, headers, self._credentials.get_frozen_credentials(), self.region or "")

    def call(self, method: str, path: str, params: dict[str, Any] | None = None, body: Any = None,
             accept: str | None = None) -> Any:
        """The JSON (or text) answer; OpsError for a 4xx or 5xx. `accept`: another answer (e.g. text/csv)."""
        import requests

        query = urlencode({k: v for k, v in (params or {}).items() if v not in (None, "", False)}, doseq=True)
        url = f"{self.url}{path}" + (f"?{query}" if query else "")
        data = json.dumps(body).encode() if body is not None else None
        headers = {"Content-Type": "application/json"} if data is not None else {}
        if accept:
            headers["Accept"] = accept
        resp = requests.request(method, url, data=data, headers=self.auth_headers(method, url, data, headers),
                                timeout=self.timeout)
        try:
            answer: Any = resp.text if accept and "json" not in accept else resp.json()
        except ValueError:
            answer = resp.text
        if resp.status_code >= 400:
            raise OpsError(resp.status_code, answer)
        return answer
