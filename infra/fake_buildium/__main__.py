"""`python -m infra.fake_buildium [--port 8765]`: the demo account on 127.0.0.1 for poking at by hand (curl, the
adapter from a shell); prints the URL, credentials and ids, serves until Ctrl-C."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading

from infra.fake_buildium.server import FakeBuildium


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m infra.fake_buildium", description=__doc__)
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--account-id", type=int, default=123456)
    parser.add_argument("--client-id", default="fake-client-id")
    parser.add_argument("--client-secret", default="fake-client-secret")
    parser.add_argument("--webhook-secret", default="fake-webhook-secret")
    parser.add_argument("--empty", action="store_true", help="start without the demo portfolio")
    args = parser.parse_args(argv)
    options = {"account_id": args.account_id, "client_id": args.client_id, "client_secret": args.client_secret,
               "webhook_secret": args.webhook_secret}
    fake = (FakeBuildium(**options) if args.empty else FakeBuildium.from_demo(**options)).start(args.port)
    print(json.dumps({"url": fake.url, "account_id": fake.account_id, "client_id": fake.client_id,
                      "client_secret": fake.client_secret, "webhook_secret": fake.webhook_secret}, indent=2))
    print(f"ids: {json.dumps(fake.ids)}")
    print(f"try: curl -H 'x-buildium-client-id: {fake.client_id}' -H 'x-buildium-client-secret: "
          f"{fake.client_secret}' {fake.url}/v1/rentals", flush=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # stop cleanly when run in the background too
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        fake.stop()


if __name__ == "__main__":
    main()
