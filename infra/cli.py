"""`opslayer` command line: the drill, PMS tools, triage (eval, train, correct, export), ops (list, show,
cancel, close, open, redrive, retry, and the ways forward from an escalation: reassign, restart, resume,
extend, note; the KPIs: kpis, scorecard, baseline) against a local or a deployed stack, the KPI backfill
(kpi backfill), and the setup as code (config export, import)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

DEFAULT_URL = "http://127.0.0.1:8000"


def _drill(args: argparse.Namespace) -> int:
    """The drill on the drill's own records (its messages read from the drill sink through the ops API), on
    a local or a deployed stack; `--full`: the local demo's six scenarios (needs a local stack's /_local)."""
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
        if args.full:
            from infra.drill import Drill

            drill: Any = Drill(url, step_budget_s=args.budget)
        else:
            from shared.drill_runner import DrillRun

            args.url = url
            client = _ops_client(args)
            drill = DrillRun(client.url, client.auth_headers, step_budget_s=args.budget, poll_s=args.poll)
        ok = drill.run()
        print(drill.table())
        if drill.invoices:
            print("\nInvoices (coding and checks):\n" + drill.invoice_report())
        from shared.drill_runner import kpi_summary

        if summary := kpi_summary(drill):
            print("\nKPIs of the drill's own work orders (mean of each scenario's):\n" + drill.kpi_table(summary))
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


def _triage_eval(args: argparse.Namespace) -> int:
    from infra.triage.dataset import load_examples
    from infra.triage.evaluate import full_report, second_labeller, triage_decision

    examples = load_examples(args.file)
    if args.labels:
        classifier, what = second_labeller(examples, Path(args.labels)), f"second labeller {args.labels}"
    else:
        classifier, what = triage_decision(args.mode), args.mode
    text, figures = full_report(examples, classifier, f"{args.file} ({what})", timed=not args.labels)
    print(json.dumps(figures, indent=2) if args.json else text)
    return 0


def _triage_train(args: argparse.Namespace) -> int:
    from infra.triage.train import CORPUS, train_file

    out = train_file(Path(args.corpus) if args.corpus else CORPUS, Path(args.out) if args.out else None)
    print(f"wrote {out} ({out.stat().st_size // 1024} KiB)")
    return 0


def _triage_cv(args: argparse.Namespace) -> int:
    from infra.triage.crossval import DEFAULT_CACHE, batch_folds, cv_report, decisions, out_of_fold_opinions
    from infra.triage.dataset import load_examples
    from infra.triage.train import CORPUS

    corpus = Path(args.corpus) if args.corpus else CORPUS
    examples = load_examples(corpus)
    folds = batch_folds([e.id for e in examples]) if args.by_batch else None
    opinions = out_of_fold_opinions(examples, k=args.folds, cache=None if args.no_cache else DEFAULT_CACHE,
                                    progress=not args.json, folds=folds)
    split = f"{len(set(folds))} folds by batch" if folds else f"{args.folds}-fold"
    title = f"{corpus.name} ({split}, out of fold)"
    text, figures = cv_report(examples, decisions(examples, opinions), title)
    print(json.dumps(figures, indent=2) if args.json else text)
    return 0


def _triage_near_copies(args: argparse.Namespace) -> int:
    """Training messages that nearly copy a blind message (listed; with --drop, left out of the pool)."""
    from infra.triage.dataset import load_examples, near_copies
    from infra.triage.train import CORPUS

    copies = near_copies(load_examples(CORPUS), load_examples(args.blind), args.threshold)
    for pool_id, blind_id in copies.items():
        print(f"{pool_id}  ~  {blind_id}")
    if args.drop and copies:
        kept = [line for line in CORPUS.read_text(encoding="utf-8").splitlines(keepends=True)
                if line.strip() and json.loads(line)["id"] not in copies]
        CORPUS.write_text("".join(kept), encoding="utf-8")
        print(f"left {len(copies)} out of {CORPUS}; now run `opslayer triage train` and commit both")
    else:
        print(f"{len(copies)} near copies (token Jaccard >= {args.threshold})")
    return 0


def _ops_headers(url: str, key: str | None) -> dict[str, str]:
    """The local ops key (X-Ops-Key): given, or read from a running `make local`."""
    from infra.ops_client import local_ops_key

    return {"X-Ops-Key": key or local_ops_key(url)}


def _triage_correct(args: argparse.Namespace) -> int:
    import requests

    resp = requests.post(f"{args.url.rstrip('/')}/ops/work-orders/{args.work_order}/triage",
                         json={"trade": args.trade, "priority": args.priority, "reason": args.reason},
                         headers=_ops_headers(args.url, args.ops_key), timeout=30)
    print(json.dumps(resp.json(), indent=2))
    return 0 if resp.ok else 1


def _triage_export(args: argparse.Namespace) -> int:
    """Ops corrections as labelled JSONL lines (the blind set's format, plus why) for the next rules and model."""
    import requests

    resp = requests.get(f"{args.url.rstrip('/')}/ops/triage/corrections",
                        headers=_ops_headers(args.url, args.ops_key), timeout=60)
    resp.raise_for_status()
    lines = [json.dumps({"id": f"ops-{c['work_order_id']}-{n}", "text": c["text"], "trade": c["after"]["trade"],
                         "priority": c["after"]["priority"], "was": c["before"], "reason": c["reason"],
                         "actor": c["actor"], "language": c.get("language") or None}, ensure_ascii=False)
             for n, c in enumerate(resp.json()["corrections"], start=1)]
    text = "".join(line + "\n" for line in lines)
    if args.out:
        with open(args.out, "w", encoding="utf-8") as fh:
            fh.write(text)
        print(f"wrote {len(lines)} corrections to {args.out}")
    else:
        sys.stdout.write(text)
    return 0


def _ops_redrive(args: argparse.Namespace) -> int:
    """Move a dead-letter queue's messages back to their source queue (or, without QUEUE, list the DLQs)."""
    client = _ops_client(args)
    answer = client.call("POST", f"/ops/dlq/{args.queue}/redrive", body={}) if args.queue \
        else client.call("GET", "/ops/dlq")
    print(json.dumps(answer, indent=2))
    return 0


def _ops_retry(args: argparse.Namespace) -> int:
    """Restart a work order's failed lifecycle at the step its status implies."""
    print(json.dumps(_ops_client(args).call("POST", f"/ops/work-orders/{args.work_order}/retry", body={}), indent=2))
    return 0


def _config_export(args: argparse.Namespace) -> int:
    """The whole setup as one YAML file (stable order: it diffs well in git)."""
    import requests

    from infra.setup_file import to_yaml

    resp = requests.get(f"{args.url.rstrip('/')}/ops/config", headers=_ops_headers(args.url, args.ops_key),
                        timeout=60)
    resp.raise_for_status()
    text = to_yaml(resp.json())
    if args.file == "-":
        sys.stdout.write(text)
    else:
        with open(args.file, "w", encoding="utf-8") as fh:
            fh.write(text)
        print(f"wrote {sum(len(r) for r in resp.json().values())} records to {args.file}")
    return 0


def _config_import(args: argparse.Namespace) -> int:
    """Diff the file against the API's setup, then (unless --dry-run) PUT each changed record with If-Match
    the version the diff was made against: validated and versioned like any API change; a record someone
    changed meanwhile is refused (409) and reported, never overwritten."""
    import requests

    from infra.setup_file import from_yaml, plan

    with open(args.file, encoding="utf-8") as fh:
        desired = from_yaml(fh.read())
    base, headers = args.url.rstrip("/"), _ops_headers(args.url, args.ops_key)
    resp = requests.get(f"{base}/ops/config", headers=headers, timeout=60)
    resp.raise_for_status()
    todo = plan(resp.json(), desired, args.file)
    for change in todo.changes:
        sys.stdout.write(change.diff)
    for kind in todo.unknown_kinds:
        print(f"! {kind}: not a kind of setup (allowed: {', '.join(sorted(resp.json()))})")
    if todo.left_alone:
        print(f"{len(todo.left_alone)} records not in the file, left as they are")
    print(f"{len(todo.changes)} records to change" + (" (dry run: nothing changed)" if args.dry_run else ""))
    if args.dry_run:
        return 1 if todo.unknown_kinds else 0
    failed = len(todo.unknown_kinds)
    for change in todo.changes:
        put = requests.put(f"{base}/ops/config/{change.kind}/{change.id}", json=change.value,
                           headers={**headers, "If-Match": str(change.version)}, timeout=60)
        label = f"{change.kind}/{change.id}"
        if put.ok:
            print(f"applied {label}: version {put.json()['version']}")
            continue
        failed += 1
        body = put.json() if put.headers.get("content-type", "").startswith("application/json") else {}
        fields = ", ".join(d.get("field", "") for d in body.get("details") or [] if isinstance(d, dict))
        print(f"! {label}: {put.status_code} {body.get('message', put.text)}" + (f" ({fields})" if fields else ""))
    return 1 if failed else 0


def _ops_client(args: argparse.Namespace) -> Any:
    from infra.ops_client import OpsClient, stack_api_url

    session = None
    url = args.url
    if args.stack or args.profile:
        import boto3

        session = boto3.Session(profile_name=args.profile, region_name=args.region)
    if args.stack:
        url = stack_api_url(args.stack, session)
    return OpsClient(url, ops_key=args.ops_key, session=session, region=args.region)


LIST_COLUMNS = (("id", 26), ("status", 16), ("overdue", 7), ("priority", 9), ("trade", 12), ("property_id", 16),
                ("unit_id", 18), ("created_at", 19))


def _row(item: dict[str, Any]) -> str:
    values = {**item, "overdue": "yes" if item.get("overdue") else "", "created_at": item["created_at"][:19]}
    return "  ".join(f"{values.get(name) or ''!s:<{width}}" for name, width in LIST_COLUMNS).rstrip()


def _ops_list(args: argparse.Namespace) -> int:
    client = _ops_client(args)
    filters = {"status": args.status, "stage": args.stage, "property_id": args.property, "source": args.source,
               "older_than": args.older_than, "overdue": "true" if args.overdue else None}
    cursor = args.cursor
    items: list[dict[str, Any]] = []
    while True:
        page = client.call("GET", "/ops/work-orders", {**filters, "limit": args.limit, "cursor": cursor})
        items += page["work_orders"]
        cursor = page.get("next_cursor")
        if not cursor or not args.all:
            break
    if args.json:
        print(json.dumps({"work_orders": items, "count": len(items), "next_cursor": cursor}, indent=2))
        return 0
    print("  ".join(f"{name.upper():<{width}}" for name, width in LIST_COLUMNS).rstrip())
    for item in items:
        print(_row(item))
    print(f"\n{len(items)} work order(s)" + (f"; more: --all, or --cursor {cursor}" if cursor else ""))
    return 0


def _ops_show(args: argparse.Namespace) -> int:
    print(json.dumps(_ops_client(args).call("GET", f"/ops/work-orders/{args.work_order}"), indent=2))
    return 0


def _ops_change(args: argparse.Namespace) -> int:
    """cancel or close, with the reason on the record."""
    done = _ops_client(args).call("POST", f"/ops/work-orders/{args.work_order}/{args.ops_command}",
                                  body={"reason": args.reason})
    print(f"{done['id']}: {done['status']}")
    return 0


def _ops_steer(args: argparse.Namespace) -> int:
    """A way forward for an escalated job (POST /ops/work-orders/{id}/steer)."""
    action = {"restart": "restart_dispatch"}.get(args.ops_command, args.ops_command)
    fields = {"reason": getattr(args, "reason", None), "vendor_id": getattr(args, "vendor", None),
              "technician_id": getattr(args, "technician", None), "stage": getattr(args, "stage", None),
              "extend_hours": getattr(args, "hours", None), "text": getattr(args, "text", None)}
    done = _ops_client(args).call("POST", f"/ops/work-orders/{args.work_order}/steer",
                                  body={"action": action, **{k: v for k, v in fields.items() if v is not None}})
    print(f"{done['id']}: {done['status']}" + (f" (resumes at {done['resume_at']})" if done.get("resume_at") else ""))
    return 0


def _ops_open(args: argparse.Namespace) -> int:
    """A short-lived single-use link to the page, opened in the browser (or only printed)."""
    client = _ops_client(args)
    if args.work_order == "overview":  # the ops overview: open work, overdue jobs, KPI tiles
        link = client.call("POST", "/ops/overview/links", body={})
    else:
        link = client.call("POST", f"/ops/work-orders/{args.work_order}/links", body={"page": args.page})
    url = client.url + link["path"]  # the base the CLI reached (the API's own idea of it may differ locally)
    print(f"{url}\n(opens once, until {link['expires_at']})")
    if not args.print_only:
        import webbrowser

        webbrowser.open(url)
    return 0


KPI_COLUMNS = (("id", 24), ("value", 12), ("p50", 10), ("p90", 10), ("mean", 10), ("count", 18))


def _kpi_line(kpi: dict[str, Any]) -> str:
    count = kpi.get("count", kpi.get("denominator", kpi.get("work_orders", "")))
    if "numerator" in kpi:
        count = f"{kpi['numerator']}/{kpi['denominator']}"
    values = {**kpi, "count": count}
    return "  ".join(f"{'' if values.get(name) is None else values.get(name)!s:<{width}}"
                     for name, width in KPI_COLUMNS).rstrip()


def _print_kpis(values: list[dict[str, Any]], title: str = "") -> None:
    if title:
        print(f"\n{title}")
    print("  ".join(f"{name.upper():<{width}}" for name, width in KPI_COLUMNS).rstrip())
    for kpi in values:
        print(_kpi_line(kpi))


def _ops_kpis(args: argparse.Namespace) -> int:
    """The KPIs of a period (GET /ops/kpis): a table, --json, or --csv (the API's CSV)."""
    client = _ops_client(args)
    params = {"from": args.since, "to": args.until, "property_id": args.property, "group_by": args.group_by}
    if args.csv:
        sys.stdout.write(client.call("GET", "/ops/kpis", params, accept="text/csv"))
        return 0
    report = client.call("GET", "/ops/kpis", params)
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    print(f"KPIs {report['from']} .. {report['to']}" + (f" ({report['property_id']})" if report["property_id"] else "")
          + f"; rules {report['rules_version']}; durations in seconds, rates 0-1")
    _print_kpis(report["kpis"])
    for group in report.get("groups") or []:
        _print_kpis(group["kpis"], f"{args.group_by} = {group[args.group_by]}")
    if report.get("baseline"):
        base = report["baseline"]
        print(f"\nBaseline (deployed {base['deployed_on']}): KPI  baseline  +30d  +60d  +90d")
        for row in base["kpis"]:
            print(f"{row['id']:<20}  {row['baseline']!s:<10}  {row['after_30_days']!s:<10}  "
                  f"{row['after_60_days']!s:<10}  {row['after_90_days']!s}")
    return 0


def _ops_scorecard(args: argparse.Namespace) -> int:
    card = _ops_client(args).call("GET", f"/ops/vendors/{args.vendor}/scorecard",
                                  {"from": args.since, "to": args.until})
    if args.json:
        print(json.dumps(card, indent=2))
        return 0
    print(f"Scorecard {card['name']} ({card['vendor_id']}) {card['from']} .. {card['to']}")
    _print_kpis(card["kpis"])
    return 0


def _ops_baseline(args: argparse.Namespace) -> int:
    """Show the KPI baseline, or set it from a period and/or figures entered by hand (id=value)."""
    client = _ops_client(args)
    figures = {}
    for pair in args.figure or []:
        name, _, value = pair.partition("=")
        figures[name] = float(value)
    if args.since or args.until or figures:
        body = {"from": args.since, "to": args.until, "figures": figures, "deployed_on": args.deployed_on}
        answer = client.call("PUT", "/ops/kpis/baseline", body={k: v for k, v in body.items() if v})
    else:
        answer = client.call("GET", "/ops/kpis/baseline")
    print(json.dumps(answer, indent=2))
    return 0


def _openapi(args: argparse.Namespace) -> int:
    """Write the document GET /openapi.json serves (tests/unit/test_openapi.py keeps the committed one equal)."""
    import os

    from shared.config import ENV_VARS

    for name, var in ENV_VARS.items():  # the app checks its settings at import; none describes a route
        os.environ.setdefault(var, f"openapi-{name}")
    from functions.api import openapi
    from functions.api.app import app

    Path(args.out).write_text(openapi.rendered(app), encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


def _kpi_backfill(args: argparse.Namespace) -> int:
    """Recompute the rollups of a period from the timelines, one API call per slice of at most 31 days."""
    from datetime import date, timedelta

    client = _ops_client(args)
    first, last = date.fromisoformat(args.since), date.fromisoformat(args.until)
    totals = {"work_orders": 0, "changed": 0}
    while first <= last:
        end = min(last, first + timedelta(days=args.slice_days - 1))
        done = client.call("POST", "/ops/kpis/backfill", body={"from": first.isoformat(), "to": end.isoformat()})
        print(f"{done['from']} .. {done['to']}: {done['work_orders']} work orders, {done['changed']} changed")
        totals = {k: totals[k] + done[k] for k in totals}
        first = end + timedelta(days=1)
    print(f"backfill done: {totals['work_orders']} work orders, {totals['changed']} changed")
    return 0


def _ops_tenant(args: argparse.Namespace) -> int:
    """A person's data by phone or email (in the request body, never the URL): `export` prints it all as JSON;
    `erase` redacts their work orders and deletes their photos and surveys (with --yes)."""
    if args.action == "erase" and not args.yes:
        print("erase is irreversible: add --yes to erase this person's data", file=sys.stderr)
        return 2
    body = {"email": args.contact} if "@" in args.contact else {"phone": args.contact}
    print(json.dumps(_ops_client(args).call("POST", f"/ops/people/{args.action}", body=body), indent=2))
    return 0


def _ops_parsers(sub: argparse._SubParsersAction) -> None:
    ops = sub.add_parser("ops", help="the ops API: list, show, cancel, close, open, redrive, retry, reassign, "
                                     "restart, resume, extend, note, tenant (local or a deployed stack)")
    o_sub = ops.add_subparsers(dest="ops_command", required=True)

    def command(name: str, func: Any, help_text: str) -> argparse.ArgumentParser:
        p = o_sub.add_parser(name, help=help_text)
        p.add_argument("--url", default=DEFAULT_URL,
                       help="the API base: a local stack (X-Ops-Key) or a stack's ApiUrl (SigV4); default %(default)s")
        p.add_argument("--stack", help="a deployed stack's name: its ApiUrl output is the URL")
        p.add_argument("--profile", help="AWS profile (default: the standard credential chain)")
        p.add_argument("--region", help="AWS region (default: from the URL, else the profile's)")
        p.add_argument("--ops-key", help="X-Ops-Key for a local stack (default: read from it)")
        p.set_defaults(func=func)
        return p

    ls = command("list", _ops_list, "work orders, newest first, a page at a time")
    ls.add_argument("--status")
    ls.add_argument("--stage", help="accept, schedule, complete, followup, invoice or approval")
    ls.add_argument("--property")
    ls.add_argument("--source")
    ls.add_argument("--older-than", help="created at least this long ago: 90 (s), 45m, 36h, 7d, 2w")
    ls.add_argument("--overdue", action="store_true", help="only those past their stage's timer")
    ls.add_argument("--limit", type=int, help="page size (1-200; the API's default is 50)")
    ls.add_argument("--all", action="store_true", help="follow the cursor to the end")
    ls.add_argument("--cursor", help="start at this next_cursor")
    ls.add_argument("--json", action="store_true")
    show = command("show", _ops_show, "one work order with its timeline (JSON)")
    show.add_argument("work_order")
    for name in ("cancel", "close"):
        change = command(name, _ops_change, f"{name} a work order, with the reason on the record")
        change.add_argument("work_order")
        change.add_argument("--reason", required=True)
    op = command("open", _ops_open, "open the record or report in a browser (a 10-minute, single-use link); "
                                    "`open overview`: the ops overview")
    op.add_argument("work_order", help="a work order's id, or `overview`")
    op.add_argument("--page", choices=["record", "report"], default="report")
    op.add_argument("--print-only", action="store_true", help="print the link, do not start a browser")
    rd = command("redrive", _ops_redrive, "move a dead-letter queue's messages back to their source queue "
                                          "(without QUEUE: each DLQ's depth and running move)")
    rd.add_argument("queue", nargs="?", help="intake, notifications, pms-inbound, pms-outbound, sensor-alerts, "
                                             "visit-timers or kpi-rollup")
    rt = command("retry", _ops_retry, "restart a work order whose automation failed, where it failed")
    rt.add_argument("work_order")
    stages = ["schedule", "completion", "followup", "invoice", "approval", "bill"]
    ra = command("reassign", _ops_steer, "give an escalated job to a vendor or an in-house technician")
    who = ra.add_mutually_exclusive_group(required=True)
    who.add_argument("--vendor")
    who.add_argument("--technician")
    rs = command("restart", _ops_steer, "dispatch an escalated job again (a fresh ranking)")
    re_ = command("resume", _ops_steer, "put an escalated job back at a stage (default: where it stalled)")
    re_.add_argument("--stage", choices=stages)
    ex = command("extend", _ops_steer, "resume an escalated job with a longer timer for its stage")
    ex.add_argument("--hours", type=int, required=True)
    ex.add_argument("--stage", choices=stages)
    for parser in (ra, rs, re_, ex):
        parser.add_argument("work_order")
        parser.add_argument("--reason", required=True)
    nt = command("note", _ops_steer, "add a note to a work order's timeline")
    nt.add_argument("work_order")
    nt.add_argument("--text", required=True)
    tn = command("tenant", _ops_tenant, "a person's data by phone or email: export it (JSON) or erase it "
                                        "(work orders redacted, photos and surveys deleted; the PMS is not touched)")
    tn.add_argument("action", choices=["export", "erase"])
    tn.add_argument("contact", help="the person's phone number or email address")
    tn.add_argument("--yes", action="store_true", help="erase: confirm (it cannot be undone)")
    kp = command("kpis", _ops_kpis, "the KPIs of a period (received from --from to --to), overall and per group")
    kp.add_argument("--property")
    kp.add_argument("--group-by", choices=["priority", "trade", "vendor", "property"])
    kp.add_argument("--csv", action="store_true", help="the API's CSV (Accept: text/csv)")
    kp.add_argument("--json", action="store_true")
    sc = command("scorecard", _ops_scorecard, "a vendor's KPIs: offers made to them and the jobs they did")
    sc.add_argument("vendor")
    sc.add_argument("--json", action="store_true")
    bl = command("baseline", _ops_baseline, "show the KPI baseline, or set it (a period before the deployment "
                                            "and/or --figure ID=VALUE entered by hand)")
    bl.add_argument("--figure", action="append", help="a pre-deployment figure, e.g. resolution=259200")
    bl.add_argument("--deployed-on", help="YYYY-MM-DD: the 30/60/90-day checkpoints start here")
    for parser in (kp, sc, bl):
        parser.add_argument("--from", dest="since", help="YYYY-MM-DD (default: 30 days before --to)")
        parser.add_argument("--to", dest="until", help="YYYY-MM-DD (default: today)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="opslayer")
    sub = parser.add_subparsers(dest="command", required=True)
    kpi = sub.add_parser("kpi", help="KPI rollups: backfill a period from the work orders' timelines")
    k_sub = kpi.add_subparsers(dest="kpi_command", required=True)
    bf = k_sub.add_parser("backfill", help="recompute the rollups of a period (idempotent; 31-day API calls)")
    bf.add_argument("--from", dest="since", required=True, help="YYYY-MM-DD")
    bf.add_argument("--to", dest="until", required=True, help="YYYY-MM-DD")
    bf.add_argument("--slice-days", type=int, default=31, choices=range(1, 32), metavar="1-31")
    bf.add_argument("--url", default=DEFAULT_URL,
                    help="the API base: a local stack (X-Ops-Key) or a stack's ApiUrl (SigV4); default %(default)s")
    bf.add_argument("--stack", help="a deployed stack's name: its ApiUrl output is the URL")
    bf.add_argument("--profile", help="AWS profile (default: the standard credential chain)")
    bf.add_argument("--region", help="AWS region (default: from the URL, else the profile's)")
    bf.add_argument("--ops-key", help="X-Ops-Key for a local stack (default: read from it)")
    bf.set_defaults(func=_kpi_backfill)
    drill = sub.add_parser("drill", help="play the drill's scenarios end to end and time every step")
    drill.add_argument("--url", default=DEFAULT_URL,
                       help="the API base: a local stack (X-Ops-Key) or a stack's ApiUrl (SigV4); default %(default)s")
    drill.add_argument("--stack", help="a deployed stack's name: its ApiUrl output is the URL")
    drill.add_argument("--profile", help="AWS profile (default: the standard credential chain)")
    drill.add_argument("--region", help="AWS region (default: from the URL, else the profile's)")
    drill.add_argument("--ops-key", help="X-Ops-Key for a local stack (default: read from it)")
    drill.add_argument("--embedded", action="store_true", help="run on an in-process local cloud instead")
    drill.add_argument("--full", action="store_true",
                       help="the local demo's six scenarios (PMS webhook, IoT, texts; a local stack only)")
    drill.add_argument("--budget", type=float, default=60.0,
                       help="seconds after its scenario's start a step may be reached before it is late")
    drill.add_argument("--poll", type=float, default=0.5, help="seconds between looks at the sink and the record")
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
    _triage_parsers(sub)
    _ops_parsers(sub)
    _config_parsers(sub)
    oa = sub.add_parser("openapi", help="write the API's OpenAPI 3.1 document, generated from its routes")
    oa.add_argument("--out", default="docs/openapi.json", help="the file to write (default %(default)s)")
    oa.set_defaults(func=_openapi)
    args = parser.parse_args(argv)
    from infra.ops_client import OpsError

    try:
        return args.func(args)
    except OpsError as refused:  # the API said no: its answer, not a traceback
        print(f"error: {refused}", file=sys.stderr)
        return 1


def _triage_parsers(sub: argparse._SubParsersAction) -> None:
    triage = sub.add_parser("triage", help="measure, retrain and correct triage")
    t_sub = triage.add_subparsers(dest="triage_command", required=True)
    ev = t_sub.add_parser("eval", help="per-class precision/recall and confusion matrices for a labelled JSONL file")
    ev.add_argument("file", help="labelled messages (JSONL: text, trade, priority, hazard, language, ...)")
    ev.add_argument("--mode", choices=["combined", "rules", "model"], default="combined",
                    help="what to measure: production's combination (default), the rules alone, the model alone")
    ev.add_argument("--json", action="store_true", help="print the figures as JSON")
    ev.add_argument("--labels", help="score another labeller's labels (JSONL: id, trade, priority, hazard) instead "
                                     "of triage: how far two people agree")
    ev.set_defaults(func=_triage_eval)
    tr = t_sub.add_parser("train", help="retrain the model from the training corpus (deterministic)")
    tr.add_argument("--corpus", help="training JSONL (default: infra/triage/corpus/train.jsonl)")
    tr.add_argument("--out", help="weights file (default: the shipped shared/rules/triage_model.json)")
    tr.set_defaults(func=_triage_train)
    cv = t_sub.add_parser("cv", help="cross-validated figures on the training pool (out-of-fold predictions)")
    cv.add_argument("--corpus", help="training JSONL (default: infra/triage/corpus/train.jsonl)")
    cv.add_argument("--folds", type=int, default=5, help="k: message i in fold i mod k (without --by-batch)")
    cv.add_argument("--by-batch", action="store_true",
                    help="no source batch split across folds (each retired blind set a fold, the training batches "
                         "over three more): the split to tune on, near what a new blind set measures")
    cv.add_argument("--no-cache", action="store_true", help="retrain the fold models even if cached")
    cv.add_argument("--json", action="store_true", help="print the figures as JSON")
    cv.set_defaults(func=_triage_cv)
    nc = t_sub.add_parser("near-copies", help="training messages that nearly copy a blind set's (before using it)")
    nc.add_argument("blind", help="the new blind set (JSONL)")
    nc.add_argument("--threshold", type=float, default=0.6, help="token Jaccard at or above which it is a copy")
    nc.add_argument("--drop", action="store_true", help="leave them out of infra/triage/corpus/train.jsonl")
    nc.set_defaults(func=_triage_near_copies)
    co = t_sub.add_parser("correct", help="ops: correct one work order's triage (re-dispatch / re-time)")
    co.add_argument("work_order")
    co.add_argument("--trade", required=True)
    co.add_argument("--priority", required=True, choices=["emergency", "urgent", "routine"])
    co.add_argument("--reason", required=True)
    co.add_argument("--url", default=DEFAULT_URL)
    co.add_argument("--ops-key", help="X-Ops-Key (default: read from a running `make local`)")
    co.set_defaults(func=_triage_correct)
    ex = t_sub.add_parser("export", help="write every ops correction as a labelled example (JSONL)")
    ex.add_argument("--url", default=DEFAULT_URL)
    ex.add_argument("--ops-key", help="X-Ops-Key (default: read from a running `make local`)")
    ex.add_argument("--out", help="file to write (default: standard output)")
    ex.set_defaults(func=_triage_export)



def _config_parsers(sub: argparse._SubParsersAction) -> None:
    cfg = sub.add_parser("config", help="the whole setup as one YAML file: export, edit, import (through the API)")
    c_sub = cfg.add_subparsers(dest="config_command", required=True)
    ex = c_sub.add_parser("export", help="write the setup (vendors, properties, quiet hours, ...) to a YAML file")
    ex.add_argument("file", help="the YAML file to write ('-': standard output)")
    im = c_sub.add_parser("import", help="show the diff against the API's setup, then apply it")
    im.add_argument("file", help="a YAML file as `config export` writes it")
    im.add_argument("--dry-run", action="store_true", help="print the diff and change nothing")
    for p, func in ((ex, _config_export), (im, _config_import)):
        p.add_argument("--url", default=DEFAULT_URL, help="the API (default %(default)s)")
        p.add_argument("--ops-key", help="X-Ops-Key (default: read from a running `make local`)")
        p.set_defaults(func=func)


if __name__ == "__main__":
    sys.exit(main())
