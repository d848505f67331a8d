"""template.yaml read as data: CloudFormation's short-form intrinsics (!Ref, !Sub, ...) in their long form. Shared by
the local cloud and the deploy check (which must not import the local cloud)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

# libyaml's safe loader when PyYAML was built with it (the same documents, ~10x faster: the template is read by
# the local cloud, the deploy check and a dozen test modules); the pure-Python one otherwise.
_SAFE_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class CfnLoader(_SAFE_LOADER):  # type: ignore[misc,valid-type]
    """YAML loader (a safe one) that understands CloudFormation's short-form intrinsic tags."""


def _intrinsic(tag: str) -> Any:
    key = "Ref" if tag == "Ref" else ("Condition" if tag == "Condition" else f"Fn::{tag}")

    def construct(loader: yaml.SafeLoader, node: yaml.Node) -> dict[str, Any]:
        if isinstance(node, yaml.ScalarNode):
            value: Any = loader.construct_scalar(node)
            if tag == "GetAtt":
                value = str(value).split(".", 1)
        elif isinstance(node, yaml.SequenceNode):
            value = loader.construct_sequence(node, deep=True)
        else:
            value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
        return {key: value}

    return construct


for _tag in (
    "Ref", "Condition", "Sub", "GetAtt", "If", "Equals", "Not", "And", "Or", "Join", "Select",
    "Split", "FindInMap", "Base64", "ImportValue", "GetAZs", "Cidr", "ToJsonString", "Length",
    "Transform",
):
    CfnLoader.add_constructor(f"!{_tag}", _intrinsic(_tag))


def load_template(path: Path) -> dict[str, Any]:
    with path.open(encoding="utf-8") as fh:
        return yaml.load(fh, Loader=CfnLoader)  # CfnLoader is a SafeLoader
