"""Cold start guards: what a handler module must not import when Lambda loads it (no timings here: the
figures are `make bench` (c)). Each check runs a fresh interpreter, as a cold start does."""

import json
import os
import subprocess
import sys

import pytest

from infra.bench import handler_modules
from shared.config import ENV_VARS

# Heavy modules only some invocations need: imported on first use, never with the handler.
NEVER_AT_IMPORT = ("shared.pms.buildium", "jinja2", "aws_lambda_powertools.utilities.batch", "pydantic.networks",
                   "email.policy")


def _loaded(module: str) -> set[str]:
    env = {**os.environ, **{var: f"test-{name}" for name, var in ENV_VARS.items()}}
    code = f"import json, sys; import {module}; print(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
    return set(json.loads(out.stdout))


def test_every_function_of_the_template_is_benchmarked():
    assert "functions.dispatch" in handler_modules() and "functions.api.app" in handler_modules()
    assert len(handler_modules()) == len(set(handler_modules())) >= 20


@pytest.mark.parametrize("module", ["functions.dispatch", "functions.intake", "functions.triage",
                                    "functions.notification", "functions.pms_sync", "functions.invoicing"])
def test_handlers_leave_heavy_modules_to_first_use(module):
    loaded = _loaded(module)
    assert not [m for m in NEVER_AT_IMPORT if m in loaded]


def test_the_invoicing_steps_leave_the_approval_page_the_pms_writer_and_steering_to_first_use():
    """The approval page's view model, the PMS writer (a bill that outran it), steering (an invoice after an
    escalation), the work-order use cases (an escalation) and the PMS models (a bill: the errors the steps catch
    come without them) are not what every invoicing step needs."""
    loaded = _loaded("functions.invoicing")
    assert not [m for m in ("shared.services.views", "shared.services.pms_writer", "shared.services.steering",
                            "shared.services.workorders", "shared.pms.models") if m in loaded]


# The API declares every route at import (Chalice needs them), not each route's models and use cases: those load on
# a route's first use (functions/api/plumbing.py lazy_module; documented models are named, not imported).
API_ON_FIRST_USE = ("functions.api.answers", "shared.schemas", "shared.invoice_schemas", "shared.services.views",
                    "shared.services.workorders", "shared.services.paging", "shared.services.config")


def test_the_api_leaves_route_models_and_use_cases_to_first_use():
    loaded = _loaded("functions.api.app")
    assert not [m for m in (*NEVER_AT_IMPORT, *API_ON_FIRST_USE) if m in loaded]


def test_a_lazy_module_imports_on_first_use_and_answers_as_the_module():
    from functions.api.plumbing import documented_model, lazy_module

    code = ("import sys; from functions.api.plumbing import lazy_module; m = lazy_module('shared.invoice_schemas'); "
            "before = 'shared.invoice_schemas' in sys.modules; m.InvoiceIn; print(before, 'shared.invoice_schemas' in "
            "sys.modules)")
    env = {**os.environ, **{var: f"test-{name}" for name, var in ENV_VARS.items()}}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
    assert out.stdout.split() == ["False", "True"]
    from shared import schemas

    assert lazy_module("shared.schemas").NewRequest is schemas.NewRequest
    assert documented_model("schemas.NewRequest") is schemas.NewRequest
    with pytest.raises(AttributeError):
        lazy_module("shared.schemas").NoSuchModel  # noqa: B018 - the attribute use is the test


def test_models_build_their_validators_on_first_use():
    from shared.domain.model import Model

    class Probe(Model):
        n: int

    assert not Probe.__pydantic_complete__
    assert Probe.model_validate({"n": 1}).n == 1 and Probe.__pydantic_complete__
