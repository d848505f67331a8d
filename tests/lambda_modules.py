"""Import a Lambda handler module afresh under a chosen environment (its settings are checked at import),
leaving the modules other tests (and the local cloud) already imported untouched."""

from __future__ import annotations

import contextlib
import importlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

from shared.config import ENV_VARS

ROOT = Path(__file__).resolve().parents[1]


def handler_module(function: dict[str, Any]) -> tuple[str, str]:
    """(module, attribute) of a template function: CodeUri functions/ + Handler intake.lambda_handler."""
    module, _, attr = function["Properties"]["Handler"].rpartition(".")
    package = function["Properties"]["CodeUri"].strip("/").replace("/", ".")
    return f"{package}.{module}", attr


def every_setting() -> dict[str, str]:
    """A value for every setting's env var: enough for any handler module to pass its cold-start check."""
    return {var: f"test-{name}" for name, var in ENV_VARS.items()}


@contextlib.contextmanager
def fresh_import(module: str, env: dict[str, str]) -> Iterator[ModuleType]:
    """`module` imported anew with exactly the settings env vars in `env` (others removed); the previously
    imported handler modules are put back afterwards."""
    saved_modules = {k: v for k, v in sys.modules.items() if k == "functions" or k.startswith("functions.")}
    saved_env = {var: os.environ.get(var) for var in (*ENV_VARS.values(), *env)}
    for name in saved_modules:
        del sys.modules[name]
    for var in ENV_VARS.values():
        os.environ.pop(var, None)
    os.environ.update(env)
    try:
        yield importlib.import_module(module)
    finally:
        for name in [k for k in sys.modules if k == "functions" or k.startswith("functions.")]:
            del sys.modules[name]
        sys.modules.update(saved_modules)
        for var, value in saved_env.items():
            if value is None:
                os.environ.pop(var, None)
            else:
                os.environ[var] = value
