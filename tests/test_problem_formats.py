"""`gapctl validate --format github|sarif`: one set of problems rendered for CI consumers."""

from __future__ import annotations

import json

import jsonschema
from typer.testing import CliRunner

from gapctl.cli import app
from gapctl.problem_formats import Findings, github_line, render
from gapctl.problems import CATALOGUE, SYNTAX, Location, Problem
from tests.conftest import ROOT, write_repo

runner = CliRunner()
SARIF_SCHEMA = json.loads((ROOT / "tests/vendored/sarif-schema-2.1.0.json").read_text(encoding="utf-8"))
BROKEN = {"rounds/r1/observations/b.yaml": 'unit: b\nresults:\n  - indicator: "9"\n    result: done\n'
                                            '  - indicatr: "2"\n'}


def _broken(mini_repo, monkeypatch):
    monkeypatch.chdir(mini_repo)
    write_repo(mini_repo, BROKEN)


def test_github_format_is_one_workflow_command_per_problem(mini_repo, monkeypatch):
    _broken(mini_repo, monkeypatch)
    result = runner.invoke(app, ["validate", "rounds/r1", "--format", "github"])
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert lines == [
        "::warning file=rounds/r1/observations/b.yaml,line=2,col=1,title=W503::"
        "2 applicable indicator(s) not yet observed for 区档案馆: 1.1, 2",
        "::error file=rounds/r1/observations/b.yaml,line=3,col=16,title=E302::indicator '9' is not in scheme 'mini'",
        "::error file=rounds/r1/observations/b.yaml,line=5,col=5,title=E201::"
        "unknown key 'indicatr' in an observation entry; did you mean 'indicator'?",
        "::error file=rounds/r1/observations/b.yaml,line=5,col=5,title=E202::"
        "an observation entry has no 'indicator' (id)",
        "Failed: 3 error(s), 1 warning(s) in 5 file(s).",
    ]
    clean = runner.invoke(app, ["validate", "rounds/r1", "--format", "github", "--no-cache"])
    assert clean.exit_code == 1 and clean.output == result.output


def test_github_escaping_keeps_a_value_inside_its_command():
    """A file name or message cannot end the command or start another (`%`, CR, LF; `:` `,` in properties)."""
    row = {"path": "rounds/a,b:c%/x.yaml", "line": 3, "col": 7, "code": "E201", "severity": "error",
           "message": "bad 100% value\n::error::forged\r"}
    line = github_line(row)
    assert line == ("::error file=rounds/a%2Cb%3Ac%25/x.yaml,line=3,col=7,title=E201::"
                    "bad 100%25 value ::error::forged")
    raw = github_line({**row, "message": "a%b"})
    assert raw.endswith("::a%25b") and "\n" not in line


def test_github_data_escaping_follows_actions_core():
    from gapctl.problem_formats import _escape_data, _escape_property
    assert _escape_data("50%\r\nx") == "50%25%0D%0Ax"
    assert _escape_property("a:b,c%\n") == "a%3Ab%2Cc%25%0A"


def test_a_problem_without_a_file_has_no_location():
    findings = Findings([Problem(SYNTAX, "broken", location=Location("-"))], 0, "x", True)
    assert render(findings, "github").splitlines()[0] == "::error title=E101::broken"
    sarif = json.loads(render(findings, "sarif"))
    assert "locations" not in sarif["runs"][0]["results"][0]
    jsonschema.Draft4Validator(SARIF_SCHEMA).validate(sarif)


def test_sarif_output_is_valid_sarif_2_1_0(mini_repo, monkeypatch):
    _broken(mini_repo, monkeypatch)
    result = runner.invoke(app, ["validate", "rounds/r1", "--format", "sarif"])
    assert result.exit_code == 1
    log = json.loads(result.output)
    jsonschema.Draft4Validator(SARIF_SCHEMA).validate(log)
    assert log["version"] == "2.1.0"
    run = log["runs"][0]
    driver = run["tool"]["driver"]
    from gapctl import __version__
    assert driver["name"] == "gapctl" and driver["version"] == __version__
    rules = driver["rules"]
    assert [r["id"] for r in rules] == sorted(CATALOGUE)
    e201 = rules[[r["id"] for r in rules].index("E201")]
    assert e201["name"] == "unknown-key" and e201["shortDescription"]["text"] == "Unknown key"
    assert e201["fullDescription"]["text"] == CATALOGUE["E201"].description
    found = [(r["ruleId"], r["level"], r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
              r["locations"][0]["physicalLocation"]["region"]["startLine"],
              r["locations"][0]["physicalLocation"]["region"]["startColumn"]) for r in run["results"]]
    obs = "rounds/r1/observations/b.yaml"
    assert found == [("W503", "warning", obs, 2, 1), ("E302", "error", obs, 3, 16), ("E201", "error", obs, 5, 5),
                     ("E202", "error", obs, 5, 5)]
    for r in run["results"]:
        assert rules[r["ruleIndex"]]["id"] == r["ruleId"]
    provenance = run["properties"]["provenance"]  # the files checked, with their hashes (SARIF's property bag)
    assert obs in [f["path"] for f in provenance["files"]] and provenance["gapctl"] == __version__


def test_sarif_of_a_clean_round_has_no_results_and_exits_zero(mini_repo, monkeypatch):
    monkeypatch.chdir(mini_repo)
    result = runner.invoke(app, ["validate", "rounds/r1", "--format", "sarif"])
    assert result.exit_code == 0
    log = json.loads(result.output)
    jsonschema.Draft4Validator(SARIF_SCHEMA).validate(log)
    assert log["runs"][0]["results"] == []


def test_every_format_reports_the_same_problems(mini_repo, monkeypatch):
    """text, json, github and sarif: the same (path, line, code) in the same order."""
    _broken(mini_repo, monkeypatch)
    out = {fmt: runner.invoke(app, ["validate", "rounds/r1", "--format", fmt]).output
           for fmt in ("text", "json", "github", "sarif")}
    from_json = [(p["path"], p["line"], p["code"]) for p in json.loads(out["json"])["problems"]]
    from_text = [(line.split(":")[0], int(line.split(":")[1]), line.split(": ")[1].split()[0])
                 for line in out["text"].splitlines() if line.startswith("rounds/")]
    from_github = [(line.split("file=")[1].split(",")[0], int(line.split("line=")[1].split(",")[0]),
                    line.split("title=")[1].split("::")[0]) for line in out["github"].splitlines()
                   if line.startswith("::")]
    from_sarif = [(r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
                   r["locations"][0]["physicalLocation"]["region"]["startLine"], r["ruleId"])
                  for r in json.loads(out["sarif"])["runs"][0]["results"]]
    assert from_json == from_text == from_github == from_sarif and len(from_json) == 4


def test_sarif_uris_are_percent_encoded():
    from gapctl.problem_formats import _uri
    assert _uri("rounds/市 2021/a.yaml") == ("rounds/%E5%B8%82%202021/a.yaml", True)
    assert _uri("/tmp/x y.yaml") == ("file:///tmp/x%20y.yaml", False)
