"""The KPI pages' SVG charts (functions/api/charts.py): well-formed SVG, every text escaped, empty data said."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from functions.api import charts

SVG = "{http://www.w3.org/2000/svg}"
HOSTILE = '<script>alert("x")</script> & "quoted"'


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)  # raises on anything not well-formed


def texts(root: ET.Element) -> list[str]:
    return [e.text or "" for e in root.iter() if e.tag in (f"{SVG}text", f"{SVG}title")]


def test_a_sparkline_draws_one_point_per_value_and_a_line_through_them() -> None:
    root = parse(charts.sparkline([("w1", 1.0), ("w2", 3.0), ("w3", 2.0)], "Resolution"))
    assert len(root.findall(f"{SVG}circle")) == 3
    (line,) = root.findall(f"{SVG}polyline")
    points = [tuple(map(float, p.split(","))) for p in line.get("points", "").split()]
    assert len(points) == 3
    ys = [y for _, y in points]
    assert ys[1] < ys[2] < ys[0]  # SVG y grows downwards: the highest value is the highest point
    assert [x for x, _ in points] == sorted(x for x, _ in points)


def test_a_missing_value_leaves_a_gap_in_the_line() -> None:
    root = parse(charts.sparkline([("a", 1), ("b", 2), ("c", None), ("d", 3), ("e", 4)], "t"))
    assert len(root.findall(f"{SVG}polyline")) == 2
    assert len(root.findall(f"{SVG}circle")) == 4


def test_a_flat_series_and_a_single_point_still_draw() -> None:
    assert len(parse(charts.sparkline([("a", 5), ("b", 5)], "t")).findall(f"{SVG}circle")) == 2
    assert len(parse(charts.sparkline([("a", 5)], "t")).findall(f"{SVG}circle")) == 1


def test_no_data_says_so_instead_of_drawing_nothing() -> None:
    for svg in (charts.sparkline([], "t", empty="no data yet"),
                charts.sparkline([("a", None)], "t", empty="no data yet"), charts.bars([], "t", empty="no data yet")):
        root = parse(svg)
        assert "empty" in root.get("class", "")
        assert "no data yet" in texts(root)


def test_bars_are_as_long_as_their_values_and_show_them() -> None:
    root = parse(charts.bars([("plumbing", 300), ("hvac", 150)], "Spend", fmt=lambda v: f"${v:.0f}"))
    widths = [float(r.get("width", "0")) for r in root.findall(f"{SVG}rect")]
    assert widths[0] == 2 * widths[1] > 0
    assert {"$300", "$150", "plumbing", "hvac"} <= set(texts(root))


def test_compared_bars_draw_the_prior_value_under_each() -> None:
    root = parse(charts.bars([("a", 100), ("b", 50)], "t", compare=[200, None]))
    rects = root.findall(f"{SVG}rect")
    assert len(rects) == 3  # two values and one prior (b had none)
    assert float(rects[1].get("width", "0")) == 2 * float(rects[0].get("width", "0"))  # the scale is shared


def test_every_text_is_escaped() -> None:
    for svg in (charts.sparkline([(HOSTILE, 1), ("b", 2)], HOSTILE, fmt=lambda v: HOSTILE),
                charts.bars([(HOSTILE, 1)], HOSTILE, fmt=lambda v: HOSTILE, compare=[2]),
                charts.sparkline([], HOSTILE, empty=HOSTILE)):
        assert "<script" not in svg
        root = parse(svg)
        assert not root.findall(f".//{SVG}script")
        assert any(HOSTILE[:18] in t for t in texts(root))  # the text is still there, as text


def test_kpi_figures_read_as_people_say_them() -> None:
    from functions.api.pages import figure, money

    assert [figure(v, "seconds") for v in (30, 900, 7200, 432000)] == ["30 s", "15.0 min", "2.0 h", "5.0 d"]
    assert figure(0.814, "ratio") == "81%" and figure(None, "ratio") == "-"
    assert figure(121431, "cents") == "$1,214.31" and figure(4.25, "score") == "4.2"
    assert money(-123818) == "-$1,238.18" and money(0) == "$0.00"
