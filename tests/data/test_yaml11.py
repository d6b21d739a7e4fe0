"""gapctl's copy of YAML 1.1's implicit patterns (gapctl.data.yaml11) against PyYAML's own resolver."""

from __future__ import annotations

import subprocess
import sys

import yaml.resolver

from gapctl.data import yaml11


def _described(table: dict) -> dict:
    return {first: [(tag, pattern.pattern, pattern.flags) for tag, pattern in entries]
            for first, entries in table.items()}


def test_the_patterns_are_pyyamls_pattern_for_pattern_in_the_same_order():
    assert _described(yaml11.implicit()) == _described(yaml.resolver.Resolver.yaml_implicit_resolvers)


def test_each_plain_scalar_gets_the_tag_pyyamls_resolver_gives_it():
    resolver = yaml.resolver.Resolver()
    for text in ["yes", "No", "on", "OFF", "010", "0b11", "0x1F", "1.10", "1_000", "-.inf", ".NaN", "~", "null", "",
                 "2022-01-01", "2022-1-1 10:00:00", "190:20:30", "<<", "=", "1e3", "1.0e+3", "-", "text", "是"]:
        mine = next((tag for tag, pattern in yaml11.implicit().get(text[:1], []) if pattern.match(text)),
                    "tag:yaml.org,2002:str")
        assert mine == resolver.resolve(yaml.nodes.ScalarNode, text, (True, False)), text


def test_a_file_the_fast_parser_reads_alone_does_not_import_pyyaml(tmp_path):
    """The fast parser checks its typing against these patterns without importing PyYAML (~12 ms a run)."""
    data = tmp_path / "obs.yaml"
    data.write_text("unit: a\nresults:\n  - indicator: x1\n    result: done\n    points: 3\n    note: 公开\n",
                    encoding="utf-8")
    code = ("import sys\nfrom gapctl.data import fast_yaml\nassert fast_yaml.available()\n"
            f"raw = open({str(data)!r}, 'rb').read()\n"
            "value = fast_yaml.read(raw, raw.decode('utf-8'))\n"
            "print(value is not None, 'yaml' in sys.modules)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["True", "False"]
