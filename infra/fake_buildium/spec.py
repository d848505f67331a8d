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


class SpecUnavailable(FileNotFoundError):
    """No usable Buildium OpenAPI document: the fake cannot run without it (it shapes every record and checks
    every request)."""


def spec_path() -> Path:
    """The spec lives next to the repo (../shared/specs, or in any folder above it); BUILDIUM_OPENAPI_SPEC can point
    elsewhere. Raises SpecUnavailable naming the path it needs and how to provide it."""
    expected = Path(__file__).resolve().parents[3] / _RELATIVE  # ../shared/specs/buildium-openapi.json, by the repo
    if os.environ.get(SPEC_ENV):
        given = Path(os.environ[SPEC_ENV])
        if not given.is_file():
            raise SpecUnavailable(f"The Buildium OpenAPI spec is not at {given} (the {SPEC_ENV} environment "
                                  f"variable): point {SPEC_ENV} at Buildium's OpenAPI JSON document, or unset it "
                                  f"to use {expected}.")
        return given
    for parent in Path(__file__).resolve().parents:
        if (parent / _RELATIVE).is_file():
            return parent / _RELATIVE
    raise SpecUnavailable(f"The Buildium OpenAPI spec is missing: the fake Buildium needs it at {expected} (next to "
                          f"the repo). Save Buildium's Open API v1 document (JSON) there, or set {SPEC_ENV} to where "
                          f"it is.")


@cache
def spec_dict() -> dict[str, Any]:
    path = spec_path()
    try:
        return json.loads(path.read_text())
    except ValueError as exc:
        raise SpecUnavailable(f"The Buildium OpenAPI spec at {path} is not JSON ({exc}): replace it with "
                              f"Buildium's Open API v1 document.") from None


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
