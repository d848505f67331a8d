"""`opslayer` command line: the drill (and, later, PMS tools)."""

from __future__ import annotations

import argparse
import sys


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
        embedded = local_stack.start(url)
        server = embedded.serve("127.0.0.1", port)
    try:
        drill = Drill(url, step_budget_s=args.budget)
        ok = drill.run()
        print(drill.table())
        print(f"\nDrill {'PASSED' if ok else 'FAILED'}: {sum(s.ok for s in drill.steps)} steps ok, "
              f"{sum(not s.ok for s in drill.steps)} failed")
        return 0 if ok else 1
    finally:
        if embedded:
            server.shutdown()
            local_stack.stop(embedded)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="opslayer")
    sub = parser.add_subparsers(dest="command", required=True)
    drill = sub.add_parser("drill", help="play an emergency and a routine request end to end and time every step")
    drill.add_argument("--url", default="http://127.0.0.1:8000", help="a running `make local` (default %(default)s)")
    drill.add_argument("--embedded", action="store_true", help="run on an in-process local cloud instead")
    drill.add_argument("--budget", type=float, default=10.0, help="seconds a step may take before it is late")
    drill.set_defaults(func=_drill)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
