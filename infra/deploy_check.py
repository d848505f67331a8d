"""`make deploy-check`, last step: import every built handler as Lambda would, from the built artifacts alone.

For each AWS::Serverless::Function of the built template (.aws-sam/build/template.yaml, after `sam build`), a
fresh, isolated Python process (`-I -S`: no site-packages, no PYTHONPATH, no current directory) gets the path
Lambda gives it: the function's built code, the built CoreLayer's python/ directory, then the "runtime" (a
virtualenv holding boto3 only, as the Lambda runtime ships it). Its environment is the function's template
Environment (Globals and its own), with every Ref/GetAtt/Sub resolved to a plausible placeholder and every
parameter to its default (or a sample value for the required ones), plus the variables Lambda sets. The process
imports the Handler's module, checks the handler attribute is callable, that its logger and metrics carry the
function's POWERTOOLS_SERVICE_NAME (not "service_undefined"), and says which modules came from outside the
allowed directories (none may). A table of function, import time and result is printed; any
failure exits non-zero.

The layer's wheels are built for arm64. On another host, the layer's compiled distributions (those whose wheel
is not pure Python) are replaced, at the same pinned versions, by the host's build of them in a cache directory
placed before the layer: the only files not taken from the built artifacts, and said in the output.
"""

from __future__ import annotations

import argparse
import json
import platform
import re
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from infra.cfn_yaml import load_template

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / ".aws-sam" / "build"
REGION, ACCOUNT = "us-east-1", "123456789012"
# Parameters without a default: a plausible value each (any value the template's AllowedPattern accepts).
SAMPLE_PARAMETERS = {"SenderEmail": "maintenance@opslayer.invalid", "OpsAlertEmails": "ops@opslayer.invalid"}
PSEUDO = {"AWS::Region": REGION, "AWS::AccountId": ACCOUNT, "AWS::Partition": "aws", "AWS::URLSuffix": "amazonaws.com",
          "AWS::StackName": "opslayer-check", "AWS::NoValue": ""}


def load(path: Path) -> dict[str, Any]:
    return load_template(path)


class Resolver:
    """Intrinsic functions evaluated to placeholders: enough for the values a function's environment holds."""

    def __init__(self, template: dict[str, Any]) -> None:
        self.template = template
        self.parameters = {name: str(spec.get("Default", SAMPLE_PARAMETERS.get(name, f"placeholder-{name}")))
                           for name, spec in template.get("Parameters", {}).items()}

    def ref(self, name: str) -> str:
        if name in PSEUDO:
            return PSEUDO[name]
        if name in self.parameters:
            return self.parameters[name]
        kind = self.template["Resources"].get(name, {}).get("Type", "")
        if kind == "AWS::SQS::Queue":
            return f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/{name}"
        if kind in ("AWS::Serverless::StateMachine", "AWS::SNS::Topic", "AWS::SecretsManager::Secret"):
            return self.arn(name)
        return f"{name.lower()}-placeholder"

    def arn(self, name: str) -> str:
        kind = self.template["Resources"].get(name, {}).get("Type", "AWS::Unknown::Thing")
        service = kind.split("::")[1].lower().replace("serverless", "lambda")
        return f"arn:aws:{service}:{REGION}:{ACCOUNT}:{name}"

    def condition(self, name: str) -> bool:
        return bool(self.value(self.template["Conditions"][name]))

    def value(self, node: Any) -> Any:  # one branch per intrinsic
        if isinstance(node, list):
            return [self.value(n) for n in node]
        if not isinstance(node, dict):
            return node
        if len(node) != 1:
            return {k: self.value(v) for k, v in node.items()}
        (key, arg), = node.items()
        if key == "Ref":
            return self.ref(arg)
        if key == "Condition":
            return self.condition(arg)
        if key == "Fn::GetAtt":
            name, attribute = arg if isinstance(arg, list) else arg.split(".", 1)
            return self.arn(name) if attribute == "Arn" else f"{name.lower()}-{attribute.lower()}"
        if key == "Fn::Sub":
            text, extra = (arg, {}) if isinstance(arg, str) else (arg[0], arg[1])
            return re.sub(r"\$\{([^}!]+)\}", lambda m: self._sub(m.group(1), extra), text)
        if key == "Fn::If":
            chosen = arg[1] if self.condition(arg[0]) else arg[2]
            return self.value(chosen)
        if key == "Fn::Equals":
            left, right = self.value(arg)
            return str(left) == str(right)
        if key == "Fn::Not":
            return not self.value(arg[0])
        if key == "Fn::And":
            return all(self.value(a) for a in arg)
        if key == "Fn::Or":
            return any(self.value(a) for a in arg)
        if key == "Fn::Join":
            return str(arg[0]).join(str(v) for v in self.value(arg[1]))
        if key == "Fn::Split":
            return str(self.value(arg[1])).split(arg[0])
        if key == "Fn::Select":
            return self.value(arg[1])[int(arg[0])]
        return {key: self.value(arg)}

    def _sub(self, name: str, extra: dict[str, Any]) -> str:
        if name in extra:
            return str(self.value(extra[name]))
        if "." in name:
            return str(self.value({"Fn::GetAtt": name.split(".", 1)}))
        return self.ref(name)


@dataclass(frozen=True)
class Function:
    name: str
    handler: str
    code: Path
    layers: tuple[Path, ...]
    environment: dict[str, str]
    memory: int


def functions(build: Path = BUILD) -> list[Function]:
    """Every function of the built template, with its code, layers and resolved environment."""
    template = load(build / "template.yaml")
    resolver = Resolver(template)
    defaults = template.get("Globals", {}).get("Function", {})
    found = []
    for name, resource in template["Resources"].items():
        if resource.get("Type") != "AWS::Serverless::Function":
            continue
        props = {**defaults, **resource["Properties"]}
        env_nodes = {**defaults.get("Environment", {}).get("Variables", {}),
                     **resource["Properties"].get("Environment", {}).get("Variables", {})}
        environment = {key: str(resolver.value(value)) for key, value in env_nodes.items()}
        layers = []
        for layer in props.get("Layers", []):
            layer_name = layer["Ref"]
            layers.append(build / template["Resources"][layer_name]["Properties"]["ContentUri"] / "python")
        found.append(Function(name, props["Handler"], build / props["CodeUri"], tuple(layers), environment,
                              int(props.get("MemorySize", 128))))
    return found


def lambda_environment(fn: Function) -> dict[str, str]:
    """The function's template variables plus what the Lambda runtime sets (never the caller's environment)."""
    return {
        **fn.environment,
        "AWS_REGION": REGION, "AWS_DEFAULT_REGION": REGION, "AWS_EXECUTION_ENV": "AWS_Lambda_python3.12",
        "AWS_LAMBDA_FUNCTION_NAME": fn.name, "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(fn.memory), "_HANDLER": fn.handler,
        "LAMBDA_TASK_ROOT": str(fn.code), "LAMBDA_RUNTIME_DIR": "/var/runtime", "TZ": ":UTC", "LANG": "en_US.UTF-8",
        # Credentials Lambda would hand the role; an import must not call AWS, so these are never used.
        "AWS_ACCESS_KEY_ID": "ASIACHECKONLY", "AWS_SECRET_ACCESS_KEY": "check-only", "AWS_SESSION_TOKEN": "check-only",
        "AWS_EC2_METADATA_DISABLED": "true", "PYTHONDONTWRITEBYTECODE": "1",
    }


# Runs in the fresh process: sys.path as Lambda's, import, check the attribute, report.
_CHILD = """
import importlib, json, sys, sysconfig, time
paths, module_name, attribute = json.loads(sys.argv[1])
sys.path[:0] = paths
stdlib = [sysconfig.get_paths()["stdlib"], sysconfig.get_paths()["platstdlib"]]
started = time.perf_counter()
module = importlib.import_module(module_name)
handler = getattr(module, attribute)
elapsed = (time.perf_counter() - started) * 1000
outside = sorted({m.__name__.split(".")[0] for m in list(sys.modules.values())
                  if getattr(m, "__file__", None) and not any(m.__file__.startswith(p) for p in paths + stdlib)})
observability = sys.modules.get("shared.observability")  # the service every log line and metric carries
services = [observability.logger.service, observability.metrics.service] if observability else []
print(json.dumps({"ms": elapsed, "callable": callable(handler), "outside": outside, "services": services}))
"""


@dataclass(frozen=True)
class Result:
    function: str
    handler: str
    ms: float | None
    error: str | None


def check(fn: Function, runtime_python: str, runtime_site: list[str], host_binaries: list[str]) -> Result:
    module_name, _, attribute = fn.handler.rpartition(".")
    paths = [str(fn.code), *host_binaries, *(str(p) for p in fn.layers), *runtime_site]
    proc = subprocess.run([runtime_python, "-I", "-S", "-B", "-c", _CHILD, json.dumps([paths, module_name, attribute])],
                          capture_output=True, text=True, env=lambda_environment(fn), cwd=fn.code, timeout=120)
    if proc.returncode != 0:
        lines = [line for line in proc.stderr.strip().splitlines() if line.strip()]
        return Result(fn.name, fn.handler, None, lines[-1] if lines else f"exit {proc.returncode}")
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    if not report["callable"]:
        return Result(fn.name, fn.handler, report["ms"], f"{fn.handler} is not callable")
    if report["outside"]:
        return Result(fn.name, fn.handler, report["ms"], f"imported from outside the artifacts: {report['outside']}")
    expected = fn.environment.get("POWERTOOLS_SERVICE_NAME")
    if not expected or any(service != expected for service in report["services"]):
        return Result(fn.name, fn.handler, report["ms"], f"logs and metrics say service {report['services']}, "
                                                         f"not POWERTOOLS_SERVICE_NAME {expected!r}")
    return Result(fn.name, fn.handler, report["ms"], None)


def runtime_site_packages(runtime_python: str) -> list[str]:
    out = subprocess.run([runtime_python, "-c", "import json, site; print(json.dumps(site.getsitepackages()))"],
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out)


def compiled_distributions(layer: Path) -> dict[str, str]:
    """name -> version of the layer's distributions whose wheel is not pure Python (built for arm64)."""
    found = {}
    for wheel in layer.glob("*.dist-info/WHEEL"):
        if "Root-Is-Purelib: false" in wheel.read_text():
            name, version = wheel.parent.name[: -len(".dist-info")].rsplit("-", 1)
            found[name] = version
    return found


def host_binaries_for(layers: set[Path], runtime_python: str, cache: Path) -> list[str]:
    """On a host that is not arm64: the layers' compiled distributions for this host, same versions (cached)."""
    if platform.machine() in ("aarch64", "arm64"):
        return []
    pins = sorted(f"{n}=={v}" for layer in layers for n, v in compiled_distributions(layer).items())
    if not pins:
        return []
    target = cache / re.sub(r"[^A-Za-z0-9.=_-]+", "_", "+".join(pins))[:200]
    if not target.exists():
        pip = subprocess.run([runtime_python, "-m", "pip", "install", "--quiet", "--no-deps", "--no-compile",
                              "--only-binary=:all:", "--target", str(target), *pins], capture_output=True, text=True)
        if pip.returncode != 0:
            raise SystemExit(f"could not install the host's build of {pins}:\n{pip.stderr}")
    print(f"host {platform.machine()}: the layer's arm64 binaries taken for this host at the same versions: "
          f"{', '.join(pins)}")
    return [str(target)]


def bytecode_mismatches(layers: set[Path], runtime_python: str) -> list[str]:
    """The layers' .pyc files compiled by another Python than the runtime's (dead weight at best)."""
    magic = subprocess.run([runtime_python, "-c", "import importlib.util; print(importlib.util.MAGIC_NUMBER.hex())"],
                           capture_output=True, text=True, check=True).stdout.strip()
    return [str(pyc) for layer in layers for pyc in layer.rglob("*.pyc") if pyc.read_bytes()[:4].hex() != magic]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runtime-python", required=True, help="python3.12 of a virtualenv holding boto3 only")
    parser.add_argument("--build", type=Path, default=BUILD)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args(argv)
    args.runtime_python = str(Path(args.runtime_python).absolute())  # the checks run in each function's directory

    found = functions(args.build)
    runtime_site = runtime_site_packages(args.runtime_python)
    host = host_binaries_for({layer for fn in found for layer in fn.layers}, args.runtime_python,
                             args.build.parent / "deploy-check-host-binaries")
    layers = {layer for fn in found for layer in fn.layers}
    wrong_bytecode = bytecode_mismatches(layers, args.runtime_python)
    if wrong_bytecode:
        print(f"FAILED: {len(wrong_bytecode)} .pyc files in the layer are for another Python, e.g. {wrong_bytecode[0]}")
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        results = list(pool.map(lambda fn: check(fn, args.runtime_python, runtime_site, host), found))
    width = max(len(r.function) for r in results)
    print(f"{'function':<{width}}  {'handler':<28} {'import ms':>9}  result")
    for r in results:
        ms = f"{r.ms:9.0f}" if r.ms is not None else f"{'-':>9}"
        print(f"{r.function:<{width}}  {r.handler:<28} {ms}  {'ok' if r.error is None else 'FAILED: ' + r.error}")
    failed = [r for r in results if r.error]
    print(f"{len(results) - len(failed)}/{len(results)} handlers import from the built artifacts "
          f"({time.perf_counter() - started:.1f} s)")
    return 1 if failed or wrong_bytecode or not results else 0


if __name__ == "__main__":
    sys.exit(main())
