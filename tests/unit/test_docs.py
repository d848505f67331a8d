"""The docs stay true to the tree: every relative link and anchor resolves, every API route is documented."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
API_DOC = ROOT / "docs" / "api.md"
API_PACKAGE = ROOT / "functions" / "api"

# [text](target) and ![alt](target), with an optional "title"; code spans and fenced blocks are removed first.
LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
FENCE = re.compile(r"^(`{3,}|~{3,}).*?^\1", re.MULTILINE | re.DOTALL)
CODE_SPAN = re.compile(r"`[^`\n]*`")
EXTERNAL = re.compile(r"^[a-z][a-z0-9+.-]*:", re.IGNORECASE)  # http:, https:, mailto:, …


def relative_links(markdown: str) -> list[str]:
    """Link targets inside the repository (not in code, not external); "#x" is an anchor on the same page."""
    text = CODE_SPAN.sub("", FENCE.sub("", markdown))
    return [target for target in LINK.findall(text) if not EXTERNAL.match(target)]


def anchors(markdown: str) -> set[str]:
    """GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens; repeats get -1, -2, …"""
    found: set[str] = set()
    counts: dict[str, int] = {}
    for heading in re.findall(r"^#{1,6}\s+(.+?)\s*#*$", FENCE.sub("", markdown), re.MULTILINE):
        slug = re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
        n = counts.get(slug, 0)
        counts[slug] = n + 1
        found.add(slug if n == 0 else f"{slug}-{n}")
    return found


def api_routes() -> set[tuple[str, str]]:
    """(method, path) of every ``<app or blueprint>.route(...)`` decorator under functions/api/."""
    routes: set[tuple[str, str]] = set()
    for source in sorted(API_PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"), filename=str(source))):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for deco in node.decorator_list:
                if not (isinstance(deco, ast.Call) and isinstance(deco.func, ast.Attribute)
                        and deco.func.attr == "route" and deco.args and isinstance(deco.args[0], ast.Constant)):
                    continue
                methods = ["GET"]  # Chalice's default
                for kw in deco.keywords:
                    if kw.arg == "methods":
                        methods = [m.upper() for m in ast.literal_eval(kw.value)]
                routes.update((method, deco.args[0].value) for method in methods)
    return routes


def documented(method: str, path: str, text: str) -> bool:
    """`METHOD /path` in a code span, followed by its end, a query string or a space (not a longer path)."""
    return re.search(rf"`{method} {re.escape(path)}(?=[`?\s])", text) is not None


@pytest.mark.parametrize("doc", DOCS, ids=[str(d.relative_to(ROOT)) for d in DOCS])
def test_every_relative_link_resolves_to_a_file(doc: Path) -> None:
    missing = [target for target in relative_links(doc.read_text(encoding="utf-8")) if not target.startswith("#")
               and not (doc.parent / target.split("#", 1)[0].split("?", 1)[0]).exists()]
    assert not missing, f"{doc.relative_to(ROOT)} links to missing files: {missing}"


@pytest.mark.parametrize("doc", DOCS, ids=[str(d.relative_to(ROOT)) for d in DOCS])
def test_every_anchor_names_a_heading_of_its_page(doc: Path) -> None:
    broken = []
    for target in relative_links(doc.read_text(encoding="utf-8")):
        path, _, anchor = target.partition("#")
        page = doc.parent / path if path else doc
        if anchor and page.suffix == ".md" and page.exists() and anchor not in anchors(page.read_text("utf-8")):
            broken.append(target)
    assert not broken, f"{doc.relative_to(ROOT)} links to headings that do not exist: {broken}"


def test_anchors_follow_githubs_rules() -> None:
    text = "# Opslayer\n## Local only (`make local`, the drill)\n### invoice_rules.json\n## Notes\n## Notes\n"
    assert anchors(text) >= {"opslayer", "local-only-make-local-the-drill", "invoice_rulesjson", "notes", "notes-1"}


def test_the_link_check_sees_links_and_images_and_ignores_code() -> None:
    text = ("[a](docs/api.md#errors) ![b](docs/screenshots/x.png) [c](https://example.com) [d](#here) "
            "`[e](nope.md)`\n```\n[f](nope.md)\n```\n")
    assert relative_links(text) == ["docs/api.md#errors", "docs/screenshots/x.png", "#here"]


def test_the_route_scan_finds_the_api() -> None:
    routes = api_routes()
    assert ("GET", "/health") in routes
    assert ("POST", "/requests") in routes
    assert len(routes) >= 30


def test_every_api_route_is_in_the_api_doc() -> None:
    text = API_DOC.read_text(encoding="utf-8")
    missing = sorted(f"{method} {path}" for method, path in api_routes() if not documented(method, path, text))
    assert not missing, f"routes missing from docs/api.md (as `METHOD /path`): {missing}"


def test_a_route_is_not_documented_by_a_longer_path() -> None:
    text = "| `GET /requests/{id}/photos` | … |"
    assert not documented("GET", "/requests/{id}", text)
    assert documented("GET", "/requests/{id}", "| `GET /requests/{id}?token=…` |")
