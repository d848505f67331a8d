"""Handler that calls AWS itself (EventBridge PutEvents), to prove where its boto3 calls go."""

from __future__ import annotations

import json
import os
from typing import Any

import boto3


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    # A new client per call on purpose: the test checks the endpoint each invoke resolves.
    client = boto3.client("events")
    client.put_events(
        Entries=[
            {
                "Source": "tiny.direct",
                "DetailType": "Relayed",
                "Detail": json.dumps(event),
                "EventBusName": os.environ["BUS_NAME"],
            }
        ]
    )
    return {"endpoint": client.meta.endpoint_url, "region": client.meta.region_name}
