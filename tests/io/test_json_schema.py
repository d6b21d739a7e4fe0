"""JSON Schema for editors: generated from the shapes, committed, and every shipped file conforms."""

from __future__ import annotations

import datetime as dt
import json
import os
import tomllib
from pathlib import Path

import jsonschema
import pytest
import yaml

from gapctl.io.json_schema import KINDS, render
from tests.conftest import ROOT

SCHEMAS = {name.split(".")[0]: json.loads(text) for name, text in render().items()}


def _kind(path: Path) -> str:
    return "round" if path.name == "round.toml" else KINDS[path.parent.name]


DATA = sorted(list(ROOT.glob("schemes/*.yaml")) + list(ROOT.glob("units/*.yaml")) +
              list(ROOT.glob("rounds/*/*/*.yaml")) + list(ROOT.glob("rounds/*/round.toml")))


def _plain(value):
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value.isoformat() if isinstance(value, dt.date) else value


def test_committed_schema_files_are_current():
    for name, text in render().items():
        assert (ROOT / "schema" / name).read_text(encoding="utf-8") == text, f"run `gapctl schema` ({name})"


@pytest.mark.parametrize("path", DATA, ids=[str(p.relative_to(ROOT)) for p in DATA])
def test_shipped_file_conforms_and_points_at_its_schema(path: Path):
    text = path.read_text(encoding="utf-8")
    data = tomllib.loads(text) if path.suffix == ".toml" else yaml.safe_load(text)
    errors = list(jsonschema.Draft202012Validator(SCHEMAS[_kind(path)]).iter_errors(_plain(data)))
    assert [e.message for e in errors] == []
    rel = os.path.relpath(ROOT / "schema" / f"{_kind(path)}.schema.json", path.parent)
    first = text.splitlines()[0]
    assert first in (f"# yaml-language-server: $schema={rel}", f"#:schema {rel}")


def test_schema_flags_what_an_editor_should():
    scheme = SCHEMAS["scheme"]
    bad = {"id": "s", "title": "t", "indicators": [{"id": "1", "name": "甲", "pionts": 4,
                                                   "rule": {"kind": "all-or-nothin"}}]}
    messages = [e.message for e in jsonschema.Draft202012Validator(scheme).iter_errors(bad)]
    assert any("pionts" in m for m in messages)                     # unknown key
    assert any("all-or-nothin" in m for m in messages)              # unknown rule kind
    obs = {"unit": "a", "results": [{"indicator": "1", "result": "finished"}]}
    assert list(jsonschema.Draft202012Validator(SCHEMAS["observations"]).iter_errors(obs))
