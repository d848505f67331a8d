"""The setup file (infra/setup_file.py): a stable text for the same setup, and an import plan that changes
only what differs, against the version it read."""

from __future__ import annotations

import pytest

from infra.setup_file import from_yaml, plan, to_yaml

EXPORT = {
    "vendors": [
        {"id": "ven-b", "version": 2, "value": {"name": "B", "service_areas": ["north"], "trades": ["hvac"]}},
        {"id": "ven-a", "version": 0, "value": {"name": "A", "service_areas": ["south"], "trades": ["plumbing"]}}],
    "assets": [{"id": "boiler", "version": 0, "value": {"last_service": "2025-08-14", "interval_days": 365}}],
    "sensors": [],
}


def test_the_same_setup_gives_the_same_text_in_sorted_order() -> None:
    text = to_yaml(EXPORT)
    assert text == to_yaml({k: list(reversed(v)) for k, v in reversed(list(EXPORT.items()))})
    assert text.index("assets:") < text.index("sensors:") < text.index("vendors:")
    assert text.index("ven-a:") < text.index("ven-b:") and "version:" not in text
    assert from_yaml(text) == {"assets": {"boiler": EXPORT["assets"][0]["value"]}, "sensors": {},
                               "vendors": {"ven-a": EXPORT["vendors"][1]["value"],
                                           "ven-b": EXPORT["vendors"][0]["value"]}}


def test_an_unchanged_file_plans_nothing() -> None:
    todo = plan(EXPORT, from_yaml(to_yaml(EXPORT)), "setup.yaml")
    assert (todo.changes, todo.unknown_kinds, todo.left_alone) == ([], [], [])


def test_a_plan_changes_what_differs_against_the_version_read() -> None:
    desired = from_yaml(to_yaml(EXPORT).replace("- north", "- west") + "widgets:\n  w1: {size: 3}\n")
    del desired["vendors"]["ven-a"]
    desired["sensors"]["leak-1"] = {"unit_id": "unit-1", "location": "sink"}
    todo = plan(EXPORT, desired, "setup.yaml")
    assert [(c.kind, c.id, c.version) for c in todo.changes] == [("sensors", "leak-1", 0), ("vendors", "ven-b", 2)]
    assert todo.changes[1].value["service_areas"] == ["west"]
    assert "--- vendors/ven-b (version 2)" in todo.changes[1].diff
    assert "-- north" in todo.changes[1].diff and "+- west" in todo.changes[1].diff
    assert "(new)" in todo.changes[0].diff
    assert (todo.unknown_kinds, todo.left_alone) == (["widgets"], ["vendors/ven-a"])


def test_an_unquoted_date_reads_as_the_api_shows_it() -> None:
    assert from_yaml("assets:\n  boiler: {last_service: 2025-08-14}\n") == {
        "assets": {"boiler": {"last_service": "2025-08-14"}}}


@pytest.mark.parametrize("text", ["vendors: [1, 2]", "- a\n- b", "vendors:\n  ven-a: north", "vendors: {a: [}"])
def test_a_malformed_file_says_so(text: str) -> None:
    with pytest.raises(ValueError):
        from_yaml(text)
