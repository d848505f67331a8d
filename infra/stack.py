"""The Opslayer stack on the local cloud: deploy the template, load the demo, serve the API with the
local-only routes (/_local/outbox, /_local/demo). Used by `make local`, the drill and the tests."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from infra import demo
from infra.localcloud import LocalCloud
from shared.adapters.repository import Repository

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "template.yaml"


def local_parameters(base_url: str, **overrides: str) -> dict[str, str]:
    return {"Stage": "local", "OpsAuthMode": "key", "PublicBaseUrl": base_url,
            "SenderEmail": "maintenance@opslayer.example.com", **overrides}


@dataclass
class Stack:
    cloud: LocalCloud
    base_url: str

    @property
    def repo(self) -> Repository:
        return Repository(self.cloud.physical("Table"), client=self.cloud.client("dynamodb"))

    def ops_key(self) -> str:
        secret = self.cloud.physical("OpsApiKeySecret")
        return self.cloud.client("secretsmanager").get_secret_value(SecretId=secret)["SecretString"]

    def seed(self) -> None:
        demo.seed(self.repo)

    def demo_body(self) -> dict[str, Any]:
        return demo.describe(self.ops_key(), self.cloud.endpoint_url, self.base_url)

    def extra_routes(self) -> dict[tuple[str, str], Any]:
        def outbox(_request: Any) -> tuple[int, dict[str, str], bytes]:
            return _json({"messages": self.cloud.outbox()})

        def demo_route(_request: Any) -> tuple[int, dict[str, str], bytes]:
            return _json(self.demo_body())

        return {("GET", "/_local/outbox"): outbox, ("GET", "/_local/demo"): demo_route}


def _json(body: Any) -> tuple[int, dict[str, str], bytes]:
    return 200, {"Content-Type": "application/json"}, json.dumps(body, default=str).encode()


def start(base_url: str, server_port: int | None = None, **parameters: str) -> Stack:
    cloud = LocalCloud(template=str(TEMPLATE), parameters=local_parameters(base_url, **parameters),
                       server_port=server_port)
    cloud.start()
    stack = Stack(cloud=cloud, base_url=base_url)
    stack.seed()
    return stack
