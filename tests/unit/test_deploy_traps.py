"""The deploy traps stay fixed: data and the key that encrypts it outlive the stack alike, a failed first create
can be retried, personal data in buckets has an end, the layer ships what the runtime needs (pinned) and builds
for its architecture, no parameter defaults to someone else's domain, every function names its service."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from infra import layer
from infra.localcloud.template import load_template

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = load_template(ROOT / "template.yaml")
RESOURCES = TEMPLATE["Resources"]
PARAMETERS = TEMPLATE["Parameters"]
FUNCTIONS = {k: v for k, v in RESOURCES.items() if v["Type"] == "AWS::Serverless::Function"}
RETAINED_DATA = ("Table", "DocumentBucket", "PhotosBucket", "InboundEmailBucket")


def _refs(node: object) -> set[str]:
    """Every resource a node refers to (Ref, GetAtt, and ${Name} / ${Name.Attr} in Sub strings)."""
    if isinstance(node, dict):
        found = set()
        for key, value in node.items():
            if key == "Ref":
                found.add(value)
            elif key == "Fn::GetAtt":
                found.add(value[0])
            elif key == "Fn::Sub":
                text = value if isinstance(value, str) else value[0]
                found |= {m.split(".")[0] for m in re.findall(r"\$\{([^}!]+)\}", text)}
            found |= _refs(value)
        return found
    if isinstance(node, list):
        return set().union(*(_refs(n) for n in node)) if node else set()
    return set()


@pytest.mark.parametrize("name", [*RETAINED_DATA, "DataKey"])
def test_data_and_its_key_are_retained_except_when_the_first_create_fails(name: str) -> None:
    resource = RESOURCES[name]
    # Retain would keep half-created resources after a failed first deploy and block the retry (names taken).
    assert resource["DeletionPolicy"] == "RetainExceptOnCreate"
    assert resource["UpdateReplacePolicy"] == "Retain"


def test_every_kms_key_a_retained_resource_uses_is_retained_too() -> None:
    for name in RETAINED_DATA:
        for used in _refs(RESOURCES[name]["Properties"]):
            if RESOURCES.get(used, {}).get("Type") == "AWS::KMS::Key":
                assert RESOURCES[used]["DeletionPolicy"] in ("Retain", "RetainExceptOnCreate"), (name, used)


@pytest.mark.parametrize(("bucket", "rules"), [
    ("PhotosBucket", {"unchecked-uploads": 1, "photo-retention": {"Ref": "PhotoRetentionDays"}}),
    ("InboundEmailBucket", {"raw-mail": {"Ref": "RawEmailRetentionDays"}}),
])
def test_buckets_of_personal_data_expire_it_whatever_happens_to_the_stack(bucket: str, rules: dict) -> None:
    configured = {r["Id"]: r["ExpirationInDays"] for r in
                  RESOURCES[bucket]["Properties"]["LifecycleConfiguration"]["Rules"] if r["Status"] == "Enabled"}
    assert configured == rules


def test_the_layer_is_built_for_the_functions_architecture() -> None:
    core = RESOURCES["CoreLayer"]
    architectures = TEMPLATE["Globals"]["Function"]["Architectures"]
    assert core["Metadata"] == {"BuildMethod": "makefile", "BuildArchitecture": architectures[0]}
    assert core["Properties"]["CompatibleArchitectures"] == architectures
    assert core["Properties"]["CompatibleRuntimes"] == [TEMPLATE["Globals"]["Function"]["Runtime"]]


def test_no_parameter_defaults_to_an_address_nobody_owns() -> None:
    assert "Default" not in PARAMETERS["SenderEmail"]  # required: the deploy asks for it
    assert all("example.com" not in str(p.get("Default", "")) for p in PARAMETERS.values())
    pattern = PARAMETERS["SenderEmail"]["AllowedPattern"]
    assert re.fullmatch(pattern, "maintenance@acme-homes.com")
    assert not re.fullmatch(pattern, "") and not re.fullmatch(pattern, "a@b,c@d.com")


@pytest.mark.parametrize(("value", "ok"), [("", True), ("+18885550123", True), ("phone-1234abcd", True),
                                           ("arn:aws:sms-voice:us-east-1:123456789012:phone-number/phone-1", True),
                                           ("18885550123 ", False), ("+0123", False)])
def test_sms_origination_identity_accepts_numbers_ids_and_arns(value: str, ok: bool) -> None:
    assert bool(re.fullmatch(PARAMETERS["SmsOriginationIdentity"]["AllowedPattern"], value)) is ok


def test_every_function_that_sends_sms_is_given_the_origination_identity() -> None:
    for name, fn in FUNCTIONS.items():
        statements = [s for p in fn["Properties"].get("Policies", []) if isinstance(p, dict)
                      for s in p.get("Statement", [])]
        sends_sms = any("sns:Publish" in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]])
                        and s.get("Resource") == "*" for s in statements)
        env = fn["Properties"].get("Environment", {}).get("Variables", {})
        assert (env.get("SMS_ORIGINATION_IDENTITY") == {"Ref": "SmsOriginationIdentity"}) is sends_sms, name


def test_every_function_that_sends_email_is_given_the_sender_address() -> None:
    """SES refuses a sender it has not verified: a function allowed to send mail must know the stack's sender."""
    for name, fn in FUNCTIONS.items():
        statements = [s for p in fn["Properties"].get("Policies", []) if isinstance(p, dict)
                      for s in p.get("Statement", [])]
        sends_email = any("ses:SendEmail" in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]])
                          for s in statements)
        env = fn["Properties"].get("Environment", {}).get("Variables", {})
        assert (env.get("SENDER_EMAIL") == {"Ref": "SenderEmail"}) is sends_email, name


def test_every_function_names_its_own_powertools_service() -> None:
    names = {}
    for name, fn in FUNCTIONS.items():
        service = fn["Properties"]["Environment"]["Variables"].get("POWERTOOLS_SERVICE_NAME")
        assert service and re.fullmatch(r"[a-z][a-z-]+", service), name
        # The function's own name ends with it (opslayer-<stage>-<service>), so a log line leads to its function.
        assert fn["Properties"]["FunctionName"]["Fn::Sub"].endswith(f"-{service}"), (name, service)
        names[service] = name
    assert len(names) == len(FUNCTIONS)
    assert "POWERTOOLS_SERVICE_NAME" not in TEMPLATE["Globals"]["Function"]["Environment"]["Variables"]


# ---------------------------------------------------------------- the layer's lock
def test_the_lock_pins_every_runtime_dependency_at_a_version_pyproject_allows() -> None:
    pins = layer.read_lock()
    for requirement in layer.project_dependencies():
        name = layer.canonical(requirement.name)
        if name in layer.RUNTIME_PROVIDED:
            assert name not in pins
            continue
        assert name in pins, f"{name} is a dependency but not in the layer's lock: make layer-lock"
        assert requirement.specifier.contains(pins[name], prereleases=True), (name, pins[name])


def test_the_lock_ships_neither_the_runtimes_sdk_nor_chalices_cli() -> None:
    pins = layer.read_lock()
    assert not set(pins) & layer.RUNTIME_PROVIDED
    assert not set(pins) & {"click", "pip", "pyyaml", "inquirer", "setuptools", "wheel"}
    assert "tzdata" in pins


def test_lock_lines_parse_as_exact_pins() -> None:
    for line in layer.LOCK.read_text().splitlines():
        if line and not line.startswith("#"):
            assert str(Requirement(line).specifier).startswith("=="), line
