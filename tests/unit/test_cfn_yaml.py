"""template.yaml read as data: the fast (libyaml) loader reads exactly what PyYAML's pure-Python safe loader reads."""

from pathlib import Path

import yaml

from infra.cfn_yaml import CfnLoader, load_template

TEMPLATE = Path(__file__).resolve().parents[2] / "template.yaml"


def test_the_template_reads_the_same_with_the_pure_python_safe_loader():
    class PurePython(yaml.SafeLoader):
        pass

    for tag, constructor in CfnLoader.yaml_constructors.items():
        if isinstance(tag, str) and tag.startswith("!"):
            PurePython.add_constructor(tag, constructor)
    assert load_template(TEMPLATE) == yaml.load(TEMPLATE.read_text(encoding="utf-8"), Loader=PurePython)


def test_short_form_intrinsics_read_as_their_long_form():
    doc = yaml.load("a: !Ref X\nb: !GetAtt T.Arn\nc: !Sub ['${A}', {A: 1}]\nd: !If [C, 1, 2]\n", Loader=CfnLoader)
    assert doc == {"a": {"Ref": "X"}, "b": {"Fn::GetAtt": ["T", "Arn"]}, "c": {"Fn::Sub": ["${A}", {"A": 1}]},
                   "d": {"Fn::If": ["C", 1, 2]}}
