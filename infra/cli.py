"""`opslayer` command line: the drill (and, later, PMS tools)."""

from __future__ import annotations

import argparse
import json
import sys

DEFAULT_URL = "http://127.0.0.1:8000"


def _drill(args: argparse.Namespace) -> int:
    from infra.drill import Drill

    embedded = None
    url = args.url
    if args.embedded:
        import socket

        from infra import stack as local_stack

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        url = f"http://127.0.0.1:{port}"
        embedded = local_stack.start(url, server_port=0)  # server mode: the IoT scenario publishes to it
        server = embedded.serve("127.0.0.1", port)
    try:
        drill = Drill(url, step_budget_s=args.budget)
        ok = drill.run()
        print(drill.table())
        if drill.invoices:
            print("\nInvoices (coding and checks):\n" + drill.invoice_report())
        print(f"\nDrill {'PASSED' if ok else 'FAILED'}: {sum(s.ok for s in drill.steps)} steps ok, "
              f"{sum(not s.ok for s in drill.steps)} failed")
        return 0 if ok else 1
    finally:
        if embedded:
            server.shutdown()
            local_stack.stop(embedded)


def _pms_emit(args: argparse.Namespace) -> int:
    """Act in the (fake) Buildium as a property manager would; it delivers the signed webhook."""
    import requests

    body = {"event": args.event, "unit_id": args.unit, "title": args.title, "text": args.text}
    resp = requests.post(f"{args.url.rstrip('/')}/_local/pms/emit", json={k: v for k, v in body.items() if v},
                         timeout=30)
    resp.raise_for_status()
    print(json.dumps(resp.json(), indent=2))
    return 0 if all(s < 300 for s in resp.json()["delivered"]) else 1


def _pms_sync(args: argparse.Namespace) -> int:
    """The initial import / reconciliation: the PmsSync function pulls the portfolio through the API."""
    import requests

    resp = requests.post(f"{args.url.rstrip('/')}/_local/pms/sync", timeout=120)
    resp.raise_for_status()
    for kind, n in resp.json()["reconciled"].items():
        print(f"{kind:<16} {n:>6}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="opslayer")
    sub = parser.add_subparsers(dest="command", required=True)
    drill = sub.add_parser("drill", help="play an emergency and a routine request end to end and time every step")
    drill.add_argument("--url", default=DEFAULT_URL, help="a running `make local` (default %(default)s)")
    drill.add_argument("--embedded", action="store_true", help="run on an in-process local cloud instead")
    drill.add_argument("--budget", type=float, default=10.0, help="seconds a step may take before it is late")
    drill.set_defaults(func=_drill)
    pms = sub.add_parser("pms", help="the PMS side of a running `make local` (fake Buildium)")
    pms_sub = pms.add_subparsers(dest="pms_command", required=True)
    emit = pms_sub.add_parser("emit", help="create a record in the fake Buildium and deliver its signed webhook")
    emit.add_argument("event", choices=["Task.Created"], help="the Buildium event to cause")
    emit.add_argument("--url", default=DEFAULT_URL, help="a running `make local` (default %(default)s)")
    emit.add_argument("--unit", help="Opslayer unit id (see /_local/demo); default: a demo unit")
    emit.add_argument("--title", help="the resident request's title")
    emit.add_argument("--text", help="the resident request's description")
    emit.set_defaults(func=_pms_emit)
    sync = pms_sub.add_parser("sync", help="pull the whole portfolio from the PMS API (initial import)")
    sync.add_argument("--url", default=DEFAULT_URL, help="a running `make local` (default %(default)s)")
    sync.set_defaults(func=_pms_sync)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
