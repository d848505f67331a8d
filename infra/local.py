"""`make local`: the whole system on 127.0.0.1 - local cloud (moto server), API, demo data."""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading

from infra import stack as local_stack


def main() -> int:
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # the moto server's per-request access log
    port = int(os.environ.get("PORT", "8000"))
    aws_port = int(os.environ.get("AWS_PORT", str(port + 1)))
    base = f"http://127.0.0.1:{port}"
    print(f"Starting the local cloud on 127.0.0.1:{aws_port} and deploying template.yaml ...", flush=True)
    stack = local_stack.start(base, server_port=aws_port)
    server = stack.serve("127.0.0.1", port)
    demo = stack.demo_body()
    unit = demo["units"][0]
    print(f"""
Opslayer is running.
  API            {base}   (health: {base}/health)
  Submit         curl -X POST {base}/requests -H 'Content-Type: application/json' \\
                   -d '{{"unit_id": "{unit['id']}", "name": "{unit['tenant']['name']}", \\
                        "description": "Water is dripping under the kitchen sink"}}'
  Outbox         {base}/_local/outbox      (every SMS and email; follow the links)
  Demo data      {base}/_local/demo
  Ops            {base}/ops/work-orders    (header X-Ops-Key: {demo['ops_key']})
  AWS endpoint   {stack.cloud.endpoint_url}   e.g. aws --endpoint-url {stack.cloud.endpoint_url} \\
                   stepfunctions list-state-machines   (any credentials, region us-east-1)
  Drill          .venv/bin/opslayer drill --url {base}
Press Ctrl-C to stop.""", flush=True)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):  # Ctrl-C, or a supervisor's stop
        signal.signal(sig, lambda *_: stop.set())
    while not stop.wait(0.5):
        pass
    print("\nStopping ...", flush=True)
    server.shutdown()
    local_stack.stop(stack)
    return 0


if __name__ == "__main__":
    sys.exit(main())
