"""No module reaches into another's private names (`_x`): what is shared is public, named once."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("shared", "functions")


def _is_private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _ours(module: str | None, level: int) -> bool:
    return level > 0 or (module or "").split(".")[0] in PACKAGES


def private_uses(source: str) -> list[str]:
    """`from ours import _x`, `import ours._x`, and `ours_module._x` where `ours_module` was imported."""
    tree = ast.parse(source)
    found: list[str] = []
    modules: set[str] = set()  # local names bound to one of our modules
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and _ours(node.module, node.level):
            for alias in node.names:
                if _is_private(alias.name):
                    found.append(f"line {node.lineno}: from {'.' * node.level}{node.module or ''} import {alias.name}")
                modules.add(alias.asname or alias.name)  # may be a module (from shared.services import sms)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if _ours(alias.name, 0):
                    if any(_is_private(part) for part in alias.name.split(".")):
                        found.append(f"line {node.lineno}: import {alias.name}")
                    modules.add(alias.asname or alias.name.split(".")[0])
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and _is_private(node.attr) and isinstance(node.value, ast.Name) \
                and node.value.id in modules:
            found.append(f"line {node.lineno}: {node.value.id}.{node.attr}")
    return found


def _modules() -> list[Path]:
    return sorted(p for package in PACKAGES for p in (ROOT / package).rglob("*.py"))


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_private_name_is_imported_across_modules(path: Path) -> None:
    assert private_uses(path.read_text()) == []


def test_the_check_sees_each_way_of_reaching_in() -> None:
    source = ("from shared.services.workorders import _entry, mutate\n"
              "from shared.services import workorders\n"
              "import shared.services._hidden\n"
              "from . import _local\n"
              "from pathlib import _private_stdlib\n"
              "workorders._publish(1)\n"
              "workorders.__name__\n")
    assert private_uses(source) == ["line 1: from shared.services.workorders import _entry",
                                    "line 3: import shared.services._hidden",
                                    "line 4: from . import _local",
                                    "line 6: workorders._publish"]
