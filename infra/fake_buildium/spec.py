"""The real Buildium OpenAPI document, loaded once, used to check what clients send to the fake."""

from __future__ import annotations

import json
import os
from functools import cache
from pathlib import Path
from typing import Any

SPEC_ENV = "BUILDIUM_OPENAPI_SPEC"
SPEC_HOST = "https://api.buildium.com"  # the spec's server; requests are checked as if sent there
_RELATIVE = Path("shared") / "specs" / "buildium-openapi.json"


def spec_path() -> Path:
    """The spec lives next to the repo (../shared/specs); an env var can point elsewhere."""
    if os.environ.get(SPEC_ENV):
        return Path(os.environ[SPEC_ENV])
    for parent in Path(__file__).resolve().parents:
        if (parent / _RELATIVE).is_file():
            return parent / _RELATIVE
    raise FileNotFoundError(f"buildium-openapi.json not found above {__file__}; set {SPEC_ENV}")


@cache
def spec_dict() -> dict[str, Any]:
    return json.loads(spec_path().read_text())


@cache
def openapi() -> Any:
    """openapi-core's view of the spec; its strict spec check is off (the spec keeps Swagger-2 leftovers)."""
    from openapi_core import Config, OpenAPI

    return OpenAPI.from_dict(spec_dict(), config=Config(spec_validator_cls=None))


def schema_properties(name: str) -> set[str]:
    return set(spec_dict()["components"]["schemas"][name]["properties"])


def request_errors(method: str, path: str, query: dict[str, list[str]], body: bytes | None) -> list[dict[str, str]]:
    """Spec violations in a request (query parameters and JSON body) as Buildium-style {Key, Value} errors."""
    from openapi_core.testing import MockRequest

    request = MockRequest(SPEC_HOST, method, path, args=query, data=body)  # type: ignore[arg-type]
    errors: list[dict[str, str]] = []
    for error in openapi().iter_request_errors(request):
        cause = error.__cause__
        schema_errors = getattr(cause, "schema_errors", None)
        if schema_errors:
            for item in schema_errors:
                path = [str(p) for p in item.absolute_path]
                if item.validator == "required":  # the missing property, where it was missing
                    path.append(_missing_key(item.message))
                key = ".".join(p for p in path if p)
                errors.append({"Key": getattr(error, "name", None) or key, "Value": item.message})
        else:
            errors.append({"Key": getattr(error, "name", "") or "", "Value": str(cause or error)})
    return errors


def _missing_key(message: str) -> str:
    # jsonschema's "'Title' is a required property" carries the key only in its message
    return message.split("'")[1] if message.count("'") >= 2 else ""
