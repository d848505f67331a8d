"""Backends for the contract suites: the real adapter on moto and its in-memory twin."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
REGION = "us-east-1"


@cache
def table_definition() -> dict[str, Any]:
    """Keys, attributes and GSIs of the template's table, read from template.yaml (not retyped here)."""
    from infra.localcloud.template import load_template

    props = load_template(ROOT / "template.yaml")["Resources"]["Table"]["Properties"]
    return {k: props[k] for k in ("AttributeDefinitions", "KeySchema", "GlobalSecondaryIndexes", "BillingMode")}


@pytest.fixture(scope="module")
def aws() -> Iterator[None]:
    """moto for a module's tests (starting it costs more than a whole twin test): each test makes its own
    table, bucket or secret, so tests share nothing."""
    from moto import mock_aws

    with mock_aws():
        yield


_tables = itertools.count(1)


def new_dynamodb_table() -> tuple[Any, str]:
    """A client and a new moto table shaped like the template's (call with `aws` active)."""
    import boto3

    name = f"opslayer-contract-{next(_tables)}"
    client = boto3.client("dynamodb", region_name=REGION)
    client.create_table(TableName=name, **table_definition())
    return client, name
