"""One contract for the Secrets Manager cache (on moto) and its twin (tests/fakes)."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from shared.adapters.aws import error_code
from shared.adapters.messaging import SecretCache
from tests.contract.conftest import REGION
from tests.fakes import FakeSecrets

_names = itertools.count(1)


@dataclass
class Backend:
    make: Callable[[float], SecretCache | FakeSecrets]  # a cache with this ttl
    create: Callable[[str], str]  # store a new secret; returns its ARN
    rotate: Callable[[str, str], None]  # give a secret a new value


@pytest.fixture(params=["secretsmanager", "memory"])
def backend(request: pytest.FixtureRequest) -> Backend:
    if request.param == "memory":
        store: dict[str, str] = {}

        def make_fake(ttl: float) -> FakeSecrets:
            cache = FakeSecrets(ttl_seconds=ttl)
            cache.values = store  # every cache reads the one "Secrets Manager", as the real ones do
            return cache

        def create_fake(value: str) -> str:
            arn = f"arn:aws:secretsmanager:{REGION}:123456789012:secret:contract-{next(_names)}"
            store[arn] = value
            return arn

        return Backend(make_fake, create_fake, lambda arn, value: store.__setitem__(arn, value))
    request.getfixturevalue("aws")
    import boto3

    client = boto3.client("secretsmanager", region_name=REGION)

    def create_real(value: str) -> str:
        return client.create_secret(Name=f"contract-{next(_names)}", SecretString=value)["ARN"]

    return Backend(lambda ttl: SecretCache(ttl_seconds=ttl, client=client), create_real,
                   lambda arn, value: client.put_secret_value(SecretId=arn, SecretString=value))


def test_reads_the_secret(backend: Backend) -> None:
    arn = backend.create('{"client_id": "a"}')
    assert backend.make(300).get(arn) == '{"client_id": "a"}'


def test_a_rotation_is_seen_once_the_cached_value_is_older_than_the_ttl(backend: Backend) -> None:
    arn = backend.create("v1")
    cached, uncached = backend.make(300), backend.make(0)
    assert cached.get(arn) == "v1" and uncached.get(arn) == "v1"
    backend.rotate(arn, "v2")
    assert cached.get(arn) == "v1"
    assert uncached.get(arn) == "v2"


def test_an_unknown_secret_fails(backend: Backend) -> None:
    with pytest.raises(Exception) as caught:
        backend.make(300).get(f"arn:aws:secretsmanager:{REGION}:123456789012:secret:missing-AbCdEf")
    assert error_code(caught.value) == "ResourceNotFoundException"
