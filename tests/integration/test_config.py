"""Setup through the API on the local cloud: a vendor's areas changed through /ops/config steer the next
dispatch; then the setup as code: export -> edit -> import --dry-run (a diff, nothing changed) -> import."""

from __future__ import annotations

from pathlib import Path

import pytest

from infra import cli
from tests.integration.conftest import U, V
from tests.integration.test_lifecycle import submit, wait_offer

pytestmark = pytest.mark.integration
LEAK = "The bathroom faucet drips constantly"  # plumbing, routine, at Maple Court (area north)


def test_setup_through_the_api_and_as_code(api, stack, ops_headers, served, tmp_path: Path, capsys) -> None:
    aqua, path = V("ven-aqua"), f"/ops/config/vendors/{V('ven-aqua')}"
    shown = api.get(path, headers=ops_headers)
    assert shown.status == 200, shown.body
    before = shown.json()
    assert "north" in before["value"]["service_areas"] and shown.headers["ETag"] == f'"{before["version"]}"'
    moved = {**before["value"], "service_areas": ["south"]}

    assert api.call("PUT", path, json_body=moved, headers=ops_headers).status == 428  # no If-Match
    invalid = api.call("PUT", path, json_body={**moved, "trades": ["carpentry"]},
                       headers={**ops_headers, "If-Match": str(before["version"])})
    assert invalid.status == 422 and invalid.json()["details"][0]["field"] == "trades.0"
    assert api.call("PUT", path, json_body=moved, headers={"If-Match": "0"}).status == 401
    assert api.get("/ops/config/widgets", headers=ops_headers).status == 404
    listed = api.get("/ops/config/vendors", headers=ops_headers).json()
    assert aqua in [i["id"] for i in listed["items"]] and listed["count"] == len(listed["items"])
    try:
        changed = api.call("PUT", path, json_body=moved, headers={**ops_headers, "If-Match": str(before["version"])})
        assert changed.status == 200, changed.body
        assert changed.json()["version"] == before["version"] + 1 and changed.json()["changed_by"] == "ops:key"
        stale = api.call("PUT", path, json_body=before["value"],
                         headers={**ops_headers, "If-Match": str(before["version"])})
        assert stale.status == 409

        # AquaFix is Maple Court's preferred plumber, but no longer serves its area: Pipeline Pros gets the job.
        wo = submit(api, U("unit-maple-1a"), LEAK)
        vendor_id, _ = wait_offer(stack, wo["id"])
        assert vendor_id == V("ven-pipeline")

        # As code: export, move AquaFix back and add a sensor in the file, look at the diff, apply it.
        setup = tmp_path / "setup.yaml"
        base = ["--url", served, "--ops-key", ops_headers["X-Ops-Key"]]
        assert cli.main(["config", "export", str(setup), *base]) == 0
        text = setup.read_text()
        assert f"  {aqua}:" in text and "vendors:" in text and "version:" not in text
        assert cli.main(["config", "export", str(tmp_path / "again.yaml"), *base]) == 0
        assert (tmp_path / "again.yaml").read_text() == text  # stable: the same setup, the same file
        edited = text.replace("sensors: {}\n", "").rstrip("\n") + (
            f"\nsensors:\n  config-test-leak:\n    location: under the sink\n    unit_id: {U('unit-maple-1a')}\n")
        start = edited.index(f"  {aqua}:")
        block = edited[start:edited.index("    trades:", start)]
        setup.write_text(edited.replace(block, block.replace("    - south\n", "    - north\n")))
        capsys.readouterr()

        assert cli.main(["config", "import", str(setup), "--dry-run", *base]) == 0
        dry = capsys.readouterr().out
        assert f"--- vendors/{aqua} (version {before['version'] + 1})" in dry
        assert "-- south" in dry and "+- north" in dry
        assert "sensors/config-test-leak (new)" in dry and "2 records to change (dry run" in dry
        assert api.get(path, headers=ops_headers).json()["value"]["service_areas"] == ["south"]  # unchanged

        assert cli.main(["config", "import", str(setup), *base]) == 0
        applied = capsys.readouterr().out
        assert f"applied vendors/{aqua}: version {before['version'] + 2}" in applied
        assert api.get(path, headers=ops_headers).json()["value"]["service_areas"] == ["north"]
        sensor = api.get("/ops/config/sensors/config-test-leak", headers=ops_headers).json()
        assert sensor["version"] == 1 and sensor["value"]["location"] == "under the sink"
        history = api.get(f"{path}/history", headers=ops_headers).json()["versions"]
        assert [v["value"]["service_areas"] for v in history][-2:] == [["south"], ["north"]]
        assert all(v["changed_by"] == "ops:key" and v["changed_at"] for v in history)
        assert cli.main(["config", "import", str(setup), "--dry-run", *base]) == 0
        assert "0 records to change" in capsys.readouterr().out

        # A value the API refuses is reported with its field, and the exit status says so.
        setup.write_text(setup.read_text().replace("    - north\n", "    - north\n    - ''\n", 1))
        assert cli.main(["config", "import", str(setup), *base]) == 1
        assert "422" in capsys.readouterr().out
    finally:  # leave the session's demo portfolio as other scenarios expect it
        current = api.get(path, headers=ops_headers).json()
        if current["value"]["service_areas"] != before["value"]["service_areas"]:
            api.call("PUT", path, json_body=before["value"],
                     headers={**ops_headers, "If-Match": str(current["version"])})
