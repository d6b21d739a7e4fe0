"""gapctl measures YAML nesting itself, so a parser release that adds its own limit changes nothing.

The scan is compared with the depth of the data itself: for every YAML file in the repository
and for generated documents in every style yaml.safe_dump writes, the scan passes at the real
depth and refuses one level below it, at the place where that level opens.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from gapctl.data.yaml_depth import may_be_too_deep, too_deep_at

ROOT = Path(__file__).resolve().parents[2]


def _depth(value: Any) -> int:
    stack, deepest = [(value, 1)], 0
    while stack:
        value, level = stack.pop()
        if isinstance(value, dict):
            deepest = max(deepest, level)
            stack.extend((v, level + 1) for v in value.values())
        elif isinstance(value, list):
            deepest = max(deepest, level)
            stack.extend((v, level + 1) for v in value)
    return deepest


def _load(text: str) -> Any:
    return yaml.load(text, Loader=yaml.CSafeLoader)  # libyaml: the same data as safe_load, many times faster


def _agrees(text: str, data: Any = None) -> None:
    depth = _depth(_load(text) if data is None else data)
    assert too_deep_at(text, depth) is None
    if depth:
        assert too_deep_at(text, depth - 1) is not None


def test_every_yaml_file_of_the_repository_is_measured_exactly():
    files = subprocess.run(["git", "ls-files", "*.yaml", "*.yml"], cwd=ROOT, capture_output=True, text=True,
                           check=True).stdout.split()
    measured = 0
    for name in files:
        path = ROOT / name
        if "tests/bad/" in name or not path.is_file():
            continue  # the bad-input corpus is broken on purpose
        text = path.read_text(encoding="utf-8-sig")
        try:
            data = _load(text)
        except yaml.YAMLError:
            continue
        _agrees(text, data)
        measured += 1
    assert measured > 100


_leaf = st.one_of(st.integers(), st.text(alphabet="ab:-[]{}#'\" |>", max_size=6), st.booleans(), st.none())
_tree = st.recursive(_leaf, lambda inner: st.one_of(
    st.lists(inner, min_size=1, max_size=3),
    st.dictionaries(st.text(alphabet="ab-: #", min_size=1, max_size=4), inner, min_size=1, max_size=3)),
    max_leaves=30)


@settings(deadline=None, derandomize=True, database=None, max_examples=300)
@given(_tree, st.sampled_from([None, True, False]), st.sampled_from([2, 4]))
def test_generated_documents_in_every_style_are_measured_exactly(value, flow, indent):
    _agrees(yaml.safe_dump({"root": value}, default_flow_style=flow, indent=indent, allow_unicode=True))


def test_the_place_of_the_first_level_too_many():
    assert too_deep_at("a: " + "[" * 100 + "]" * 100, 64) == (1, 67)
    assert too_deep_at("a:\n" + "- " * 100 + "x\n", 64) == (2, 127)
    assert too_deep_at("a: " + "{a: " * 100 + "1" + "}" * 100, 64) == (1, 256)
    nested = "".join(" " * level + f"k{level}:\n" for level in range(80))
    assert too_deep_at(nested, 64) == (65, 65)


def test_text_that_only_looks_deep_is_not():
    for text in ("a: '" + "[" * 100 + "'\n",                      # a quoted scalar
                 'a: "' + "[" * 100 + '\\"x"\n',                   # an escaped quote inside one
                 "a: |\n  " + "[" * 100 + "\n  - - - -\nb: 1\n",   # a block scalar
                 "a: x # " + "[" * 100 + "\n",                     # a comment
                 "a: it's [" + "[" * 100 + "\n",                   # brackets inside a plain scalar
                 "a: 'multi\n  line " + "[" * 100 + "'\nb: [1]\n"):  # a quoted scalar over two lines
        assert too_deep_at(text, 4) is None, text


def test_only_files_that_could_be_deep_are_scanned():
    assert not may_be_too_deep(b"a:\n  b: [1, 2]\n", 64)
    assert may_be_too_deep(b"a: " + b"[" * 60, 64)
    assert may_be_too_deep(b"a:\n" + b"- " * 40 + b"x\n", 64)
    nested = "".join(" " * level + f"k{level}:\n" for level in range(80)).encode()
    assert may_be_too_deep(nested, 64)
