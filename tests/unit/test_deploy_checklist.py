"""The first-deploy checklist (docs/deploy.md) runs as written, as far as that can be known without an account:
make targets exist, every `aws` operation and option exists in the AWS API models (botocore's, as the CLI
uses), the names it gives (parameters, secrets, functions, rule sets, topics) are the template's, and every
`aws lambda invoke` in the docs has an outfile and the CLI v2 binary-format flag."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import botocore.session
import pytest
from botocore import xform_name

from infra.localcloud.template import load_template

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = load_template(ROOT / "template.yaml")
RESOURCES, PARAMETERS = TEMPLATE["Resources"], TEMPLATE["Parameters"]
STAGE = "prod"
# Options of the CLI itself (every command), and the few commands' own customizations.
CLI_OPTIONS = {"query", "output", "region", "profile", "cli-binary-format", "endpoint-url", "no-cli-pager"}
CUSTOM_OPTIONS = {("secretsmanager", "put-secret-value"): {"secret-string"}}


def checklist() -> list[list[str]]:
    """The checklist's commands, each as its words ($STAGE given), comments and variable assignments left out."""
    text = (ROOT / "docs" / "deploy.md").read_text()
    section = text[text.index("## First deploy checklist"):]
    block = re.search(r"```bash\n(.*?)```", section, re.S)
    assert block, "the checklist is one bash block"
    commands = []
    for line in block.group(1).replace("\\\n", " ").splitlines():
        line = line.strip()
        if not line or line.startswith("#") or re.fullmatch(r"[A-Z_]+=\S+", line):
            continue
        for command in line.split("&&"):
            commands.append(shlex.split(command.replace("$STAGE", STAGE)))
    return commands


def options(words: list[str]) -> dict[str, str | None]:
    found: dict[str, str | None] = {}
    for i, word in enumerate(words):
        if word.startswith("--"):
            value = words[i + 1] if i + 1 < len(words) and not words[i + 1].startswith("--") else None
            found[word[2:]] = value
    return found


def substituted(node: object) -> str:
    """A `!Sub opslayer-${Stage}-...` name as deployed with Stage=prod."""
    assert isinstance(node, dict) and "Fn::Sub" in node, node
    return node["Fn::Sub"].replace("${Stage}", STAGE)


def names(kind: str, prop: str) -> set[str]:
    return {substituted(r["Properties"][prop]) for r in RESOURCES.values() if r["Type"] == kind}


COMMANDS = checklist()


def test_the_checklist_covers_build_deploy_secrets_email_sms_alerts_and_the_import() -> None:
    heads = [" ".join(c[:3]) for c in COMMANDS]
    for expected in ("make deploy-check", ".venv-tools/sam/bin/sam deploy --guided",
                     "aws secretsmanager put-secret-value", "aws ses set-active-receipt-rule-set",
                     "aws sns set-sms-attributes",
                     "aws sns list-subscriptions-by-topic", "aws lambda invoke"):
        assert any(h.startswith(expected) for h in heads), expected


@pytest.mark.parametrize("words", [c for c in COMMANDS if c[0] == "make"], ids=" ".join)
def test_make_targets_exist(words: list[str]) -> None:
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(rf"^{re.escape(words[1])}:", makefile, re.M), words


def test_sam_deploy_gives_every_required_parameter_a_valid_value() -> None:
    [deploy] = [c for c in COMMANDS if c[0].endswith("/sam") and c[1] == "deploy"]
    assert deploy[0] == ".venv-tools/sam/bin/sam"  # where make deploy-check installs the pinned SAM CLI
    given = dict(w.split("=", 1) for w in deploy[deploy.index("--parameter-overrides") + 1:] if "=" in w)
    assert set(given) <= set(PARAMETERS), set(given) - set(PARAMETERS)
    assert {n for n, p in PARAMETERS.items() if "Default" not in p} <= set(given)
    for name, value in given.items():
        pattern = PARAMETERS[name].get("AllowedPattern")
        assert pattern is None or re.fullmatch(pattern, value), (name, value)
    assert options(deploy)["stack-name"] == f"opslayer-{STAGE}"


@pytest.mark.parametrize("words", [c for c in COMMANDS if c[0] == "aws"], ids=" ".join)
def test_aws_operations_and_options_exist(words: list[str]) -> None:
    service, command = words[1], words[2]
    model = botocore.session.get_session().get_service_model(service)
    by_cli_name = {xform_name(op, "-"): op for op in model.operation_names}
    assert command in by_cli_name, f"aws {service} {command}: no such operation"
    shape = model.operation_model(by_cli_name[command]).input_shape
    known = {xform_name(m, "-") for m in (shape.members if shape else {})}
    known |= CLI_OPTIONS | CUSTOM_OPTIONS.get((service, command), set())
    unknown = set(options(words)) - known
    assert not unknown, f"aws {service} {command}: unknown options {unknown}"
    required = {xform_name(m, "-") for m in (shape.required_members if shape else [])}
    if (service, command) == ("secretsmanager", "put-secret-value"):
        required.discard("secret-string")
    assert required <= set(options(words)), f"aws {service} {command}: missing {required - set(options(words))}"


def test_named_resources_are_the_templates() -> None:
    for words in COMMANDS:
        opts = options(words)
        if words[:3] == ["aws", "secretsmanager", "put-secret-value"]:
            assert opts["secret-id"] in names("AWS::SecretsManager::Secret", "Name"), opts["secret-id"]
        if words[:3] == ["aws", "ses", "set-active-receipt-rule-set"]:
            assert opts["rule-set-name"] in names("AWS::SES::ReceiptRuleSet", "RuleSetName")
        if words[:3] == ["aws", "sns", "list-subscriptions-by-topic"]:
            assert opts["topic-arn"].rsplit(":", 1)[1] in names("AWS::SNS::Topic", "TopicName")
        if words[:3] == ["aws", "lambda", "invoke"]:
            assert opts["function-name"] in names("AWS::Serverless::Function", "FunctionName")
        if words[:3] == ["aws", "cloudformation", "describe-stacks"]:
            assert opts["stack-name"] == f"opslayer-{STAGE}"


def test_the_initial_import_invokes_the_reconciliation_the_handler_knows() -> None:
    [invoke] = [c for c in COMMANDS if c[:3] == ["aws", "lambda", "invoke"]]
    payload = json.loads(options(invoke)["payload"])
    assert payload == {"action": "reconcile"}
    assert '"reconcile"' in (ROOT / "functions" / "pms_sync.py").read_text()


def lambda_invokes_in_the_docs() -> list[tuple[str, str]]:
    found = []
    for path in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        text = path.read_text()
        for span in re.findall(r"`(aws lambda invoke[^`]*)`", text):
            found.append((path.name, " ".join(span.split())))
        for block in re.findall(r"```bash\n(.*?)```", text, re.S):
            for line in block.replace("\\\n", " ").splitlines():
                if line.strip().startswith("aws lambda invoke"):
                    found.append((path.name, " ".join(line.split())))
    return found


@pytest.mark.parametrize(("doc", "command"), lambda_invokes_in_the_docs())
def test_every_lambda_invoke_in_the_docs_runs_on_cli_v2(doc: str, command: str) -> None:
    """CLI v2 reads --payload as base64 unless told otherwise, and `invoke` needs an outfile."""
    assert "--cli-binary-format raw-in-base64-out" in command, (doc, command)
    last = shlex.split(command.replace("…", "x"))[-1]
    assert not last.startswith("-") and last.endswith(".json"), (doc, command)  # the outfile
