"""`make local`: the whole system on 127.0.0.1 - local cloud (moto server), API, demo data."""

from __future__ import annotations

import logging
import os
import signal
import socket
import sys
import threading

from infra import stack as local_stack


def ports_taken(host: str, ports: dict[int, str]) -> list[str]:
    """One line per port (number -> what it is for) something on `host` already listens on. A port in TIME_WAIT
    is free (SO_REUSEADDR, as the servers bind); a listening socket is not."""
    taken = []
    for port, role in ports.items():
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind((host, port))
            except OSError:
                taken.append(f"port {port} ({role}) is already in use on {host}")
    return taken


def main() -> int:
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # the moto server's per-request access log
    port = int(os.environ.get("PORT", "8000"))
    aws_port = int(os.environ.get("AWS_PORT", str(port + 1)))
    base = f"http://127.0.0.1:{port}"
    taken = ports_taken("127.0.0.1", {port: "the API, PORT", aws_port: "the local AWS endpoint, PORT+1"})
    if taken:  # found before anything starts: a server thread failing to bind later would leave this hanging
        print(f"make local: {'; '.join(taken)}: stop what uses it, or choose another port (PORT=8123 make local)",
              file=sys.stderr, flush=True)
        return 1
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
