"""A function's work going on in a new invocation of itself: an asynchronous Lambda invoke."""

from __future__ import annotations

import json
from typing import Any

from shared.adapters.aws import client


class LambdaContinuations:
    """Continuations as asynchronous invocations (InvocationType ``Event``): Lambda queues the event and answers
    202 before it runs; a failed run is retried by Lambda, then goes to the function's dead-letter queue."""

    def __init__(self, lambda_client: Any = None) -> None:
        self._client = lambda_client

    @property
    def lambda_client(self) -> Any:
        return self._client or client("lambda")  # created on first use: most invocations never continue

    def continue_later(self, function_arn: str, event: dict[str, Any]) -> None:
        self.lambda_client.invoke(FunctionName=function_arn, InvocationType="Event",
                                  Payload=json.dumps(event).encode())
