"""The fake Buildium needs Buildium's OpenAPI document: without it, it fails at once, naming the file and the fix."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from infra.fake_buildium import FakeBuildium, spec


@pytest.fixture(autouse=True)
def fresh_spec_cache(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv(spec.SPEC_ENV, raising=False)
    spec.spec_dict.cache_clear()
    yield
    spec.spec_dict.cache_clear()  # the next user reloads the real spec


def test_a_repo_without_the_spec_beside_it_names_the_expected_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(spec, "__file__", str(tmp_path / "opslayer" / "infra" / "fake_buildium" / "spec.py"))
    with pytest.raises(spec.SpecUnavailable) as caught:
        FakeBuildium()
    message = str(caught.value)
    assert str(tmp_path / "shared" / "specs" / "buildium-openapi.json") in message
    assert spec.SPEC_ENV in message  # and how to point elsewhere


def test_an_env_var_pointing_nowhere_names_that_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    missing = tmp_path / "nowhere" / "buildium.json"
    monkeypatch.setenv(spec.SPEC_ENV, str(missing))
    with pytest.raises(spec.SpecUnavailable, match=str(missing)):
        FakeBuildium()


def test_a_spec_that_is_not_json_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    broken = tmp_path / "buildium-openapi.json"
    broken.write_text("<html>Not Found</html>")
    monkeypatch.setenv(spec.SPEC_ENV, str(broken))
    with pytest.raises(spec.SpecUnavailable, match="is not JSON"):
        FakeBuildium()


def test_the_spec_found_by_the_env_var_is_the_one_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    given = tmp_path / "buildium-openapi.json"
    given.write_text('{"openapi": "3.0.1", "components": {"schemas": {}}}')
    monkeypatch.setenv(spec.SPEC_ENV, str(given))
    FakeBuildium()
    assert spec.spec_path() == given and spec.spec_dict()["openapi"] == "3.0.1"
