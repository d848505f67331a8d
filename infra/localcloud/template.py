"""Turn the SAM template into the CloudFormation template moto deploys.

``template.yaml`` stays the single source of truth: this module only does what ``sam build`` /
``sam package`` and the CloudFormation transform would do on AWS -- inline the state machine
definitions, replace local code paths by an S3 location, and run the SAM translator.
"""

from __future__ import annotations

import copy
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from infra.cfn_yaml import CfnLoader, load_template  # noqa: F401  (the local cloud's readers import them here)

CODE_BUCKET = "localcloud-code"
"""Local S3 bucket that holds the placeholder code bundles."""

_ROOT_PREFIX = "-"




@dataclass(frozen=True)
class ApiRoute:
    """One ``Api`` event of a function: the template path (``/jobs/{token}``) and method."""

    function_logical_id: str
    event_name: str
    path: str
    method: str
    rest_api: str | None


@dataclass
class PreparedTemplate:
    """The SAM template made deployable, plus what the local cloud needs to remember of it."""

    sam: dict[str, Any]
    code_keys: dict[str, str] = field(default_factory=dict)  # logical id -> S3 key
    routes: list[ApiRoute] = field(default_factory=list)


def code_key(package_prefix: str) -> str:
    """S3 key of a code bundle; the key carries the import prefix of the CodeUri directory."""
    return f"localcloud/{package_prefix or _ROOT_PREFIX}/code.zip"


def package_prefix_from_key(key: str) -> str | None:
    """Inverse of :func:`code_key`: ``None`` when the key was not made by the local cloud."""
    parts = key.split("/")
    if len(parts) != 3 or parts[0] != "localcloud":
        return None
    return "" if parts[1] == _ROOT_PREFIX else parts[1]


def _package_prefix(code_uri: str, template_dir: Path, code_root: Path) -> str:
    """``functions/`` -> ``functions``: the dotted import prefix of a CodeUri directory."""
    target = (template_dir / code_uri).resolve()
    try:
        relative = target.relative_to(code_root.resolve())
    except ValueError as exc:
        raise ValueError(f"CodeUri {code_uri!r} is outside the code root {code_root}") from exc
    if target.is_file():
        raise ValueError(f"CodeUri {code_uri!r} must be a directory (zip files are not supported)")
    return ".".join(relative.parts)


def prepare(template_path: Path, code_root: Path) -> PreparedTemplate:
    """Inline ``DefinitionUri`` and point every ``CodeUri``/``ContentUri`` at the local bucket."""
    sam = load_template(template_path)
    template_dir = template_path.parent
    prepared = PreparedTemplate(sam=sam)
    for logical_id, resource in (sam.get("Resources") or {}).items():
        props = resource.setdefault("Properties", {})
        rtype = resource.get("Type")
        if rtype == "AWS::Serverless::StateMachine" and isinstance(props.get("DefinitionUri"), str):
            asl_path = template_dir / props.pop("DefinitionUri")
            props["Definition"] = json.loads(asl_path.read_text(encoding="utf-8"))
        if rtype in ("AWS::Serverless::Function", "AWS::Serverless::LayerVersion"):
            uri_key = "CodeUri" if rtype == "AWS::Serverless::Function" else "ContentUri"
            uri = props.get(uri_key)
            if uri is None and rtype == "AWS::Serverless::Function":
                uri = ((sam.get("Globals") or {}).get("Function") or {}).get("CodeUri")
            if isinstance(uri, str):
                key = code_key(_package_prefix(uri, template_dir, code_root))
                props[uri_key] = f"s3://{CODE_BUCKET}/{key}"
                prepared.code_keys[logical_id] = key
        if rtype == "AWS::Serverless::Function":
            for event_name, event in (props.get("Events") or {}).items():
                if event.get("Type") != "Api":
                    continue
                ev = event.get("Properties") or {}
                rest_api = ev.get("RestApiId")
                prepared.routes.append(
                    ApiRoute(
                        function_logical_id=logical_id,
                        event_name=event_name,
                        path=ev["Path"],
                        method=str(ev["Method"]).upper(),
                        rest_api=rest_api.get("Ref") if isinstance(rest_api, dict) else rest_api,
                    )
                )
    return prepared


class _NoManagedPolicies:
    """Managed-policy loader for the translator: locally there is no IAM to list policies from."""

    def load(self) -> dict[str, str]:
        return {}


def translate(sam: dict[str, Any], parameters: dict[str, Any]) -> dict[str, Any]:
    """Run the SAM translator (the ``AWS::Serverless-2016-10-31`` transform)."""
    from samtranslator.translator.transform import transform

    # The translator's metrics are meant for its own service; locally they only warn on exit.
    logging.getLogger("samtranslator.metrics").setLevel(logging.ERROR)
    return transform(copy.deepcopy(sam), dict(parameters), _NoManagedPolicies())  # type: ignore[arg-type]
