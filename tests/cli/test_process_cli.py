"""The process commands through typer's runner on a fixture round with self, evaluator,
review and appeal entries, an appeal filed too late and evidence with a wrong hash."""

from __future__ import annotations

import hashlib
import json

import pytest
from typer.testing import CliRunner

from gapctl.cli import app
from tests.conftest import MINI_ROUND, MINI_SCHEME, MINI_UNITS, write_repo

runner = CliRunner()

PROCESS_ROUND = MINI_ROUND + """
[stages]
self_assessment_due = 2021-09-24
evidence_due = 2021-09-24
collection_start = 2021-09-26
collection_end = 2021-09-28
preliminary = 2021-09-29
appeal_working_days = 3
final = 2021-10-15
"""

OBS_A = """\
unit: a
observer: 张三
results:
  - {indicator: "1.1", result: done, source: self}
  - indicator: "1.1"
    result: not-done
    reason: 渠道入口失效
    evidence:
      - {file: evidence/a/shot.txt, sha256: 0000000000000000000000000000000000000000000000000000000000000000}
  - {indicator: "1.1", result: not-done, reason: 复核维持, observer: 李四, source: review}
  - {indicator: "1.2", result: done, source: self}
  - {indicator: "1.2", result: done}
  - {indicator: "1.2", result: done, observer: 李四, source: review}
  - {indicator: "2", items: {lead: true, plan: true}, source: self}
  - {indicator: "2", items: {lead: true, plan: false}, reason: 未研究部署}
"""

OBS_B = """\
unit: b
observer: 张三
results:
  - {indicator: "1.1", result: done}
  - {indicator: "2", items: {lead: true, plan: true}}
"""

APPEALS_A = """\
unit: a
appeals:
  - indicator: "2"
    filed: 2021-09-30
    argument: 已召开专题会议研究部署。
    decision: {outcome: upheld, reviewer: 复核组 王五, decided: 2021-10-12, result: {items: {lead: true, plan: true}}}
  - indicator: "1.1"
    filed: 2021-10-11
    argument: 入口已修复。
"""


@pytest.fixture
def process_repo(tmp_path, monkeypatch):
    write_repo(tmp_path, {"schemes/mini.yaml": MINI_SCHEME, "units/mini.yaml": MINI_UNITS,
                          "rounds/r1/round.toml": PROCESS_ROUND, "rounds/r1/observations/a.yaml": OBS_A,
                          "rounds/r1/observations/b.yaml": OBS_B, "rounds/r1/appeals/a.yaml": APPEALS_A,
                          "rounds/r1/evidence/a/shot.txt": "入口截图\n"})
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_validate_rejects_the_late_appeal_and_the_wrong_hash(process_repo):
    result = runner.invoke(app, ["validate", "rounds/r1"])
    assert result.exit_code == 1
    assert "rounds/r1/appeals/a.yaml:8:12: E601 appeal filed on 2021-10-11, after the window closed on " \
           "2021-10-09" in result.output
    assert "E506" in result.output


def test_the_upheld_appeal_counts_and_explain_shows_the_chain(process_repo):
    (process_repo / "rounds/r1/appeals/a.yaml").write_text(APPEALS_A.split("  - indicator: \"1.1\"")[0],
                                                          encoding="utf-8")
    fixed = hashlib.sha256("入口截图\n".encode()).hexdigest()
    obs = (process_repo / "rounds/r1/observations/a.yaml")
    obs.write_text(OBS_A.replace("0" * 64, fixed), encoding="utf-8")
    data = json.loads(runner.invoke(app, ["score", "rounds/r1", "--unit", "a", "-f", "json"]).output)
    assert data["units"][0]["earned"] == "8"      # 0 (1.1) + 2 (1.2) + 6 (2, appeal upheld)
    text = runner.invoke(app, ["explain", "rounds/r1", "a", "2"]).output
    assert "评估链：自评 明确分管领导✓ 研究部署✓ → 评估 明确分管领导✓ 研究部署✗ → " \
           "复核申请（2021-09-30）申请成立（复核组 王五） ✔" in text


def test_status_counts_each_stage(process_repo):
    data = json.loads(runner.invoke(app, ["status", "rounds/r1", "--today", "2021-09-30", "-f", "json"]).output)
    assert data["counts"] == {"units": 2, "applicable": 5, "observed": 5, "self": 3, "reviewed": 2,
                              "appealed": 1, "decided": 0}   # as of 09-30: one filed, none decided
    assert {s["stage"]: s["date"] for s in data["stages"]}["appeal_deadline"] == "2021-10-09"
    assert any("appeal window closes on 2021-10-09" in d for d in data["due_soon"])
    late = json.loads(runner.invoke(app, ["status", "rounds/r1", "--today", "2021-10-20", "-f", "json"]).output)
    assert late["overdue"] == ["1 appeal(s) undecided after the final result of 2021-10-15"]
    assert runner.invoke(app, ["status", "rounds/r1", "--today", "2021-13-40"]).exit_code == 2


def test_evidence_verify_and_add(process_repo):
    verify = runner.invoke(app, ["evidence", "verify", "rounds/r1"])
    assert verify.exit_code == 1 and "E506" in verify.output and "1 evidence file(s) checked" in verify.output
    shot = process_repo / "截图.png"
    shot.write_bytes(b"\x89PNG fake screenshot")
    obs = process_repo / "rounds/r1/observations/b.yaml"
    obs.write_text("# 区档案馆的观测记录\n" + OBS_B, encoding="utf-8")
    added = runner.invoke(app, ["evidence", "add", "rounds/r1", "b", "1.1", str(shot), "--title", "栏目截图",
                                "--captured", "2021-09-27"])
    assert added.exit_code == 0, added.output
    assert (process_repo / "rounds/r1/evidence/b/截图.png").read_bytes() == shot.read_bytes()
    text = obs.read_text(encoding="utf-8")
    assert text.startswith("# 区档案馆的观测记录\n")               # the comment survived
    assert hashlib.sha256(shot.read_bytes()).hexdigest() in text and "title: 栏目截图" in text
    (process_repo / "rounds/r1/appeals/a.yaml").unlink()
    obs_a = process_repo / "rounds/r1/observations/a.yaml"
    obs_a.write_text(OBS_A.replace("0" * 64, hashlib.sha256("入口截图\n".encode()).hexdigest()), encoding="utf-8")
    again = runner.invoke(app, ["evidence", "verify", "rounds/r1"])
    assert again.exit_code == 0 and "2 evidence file(s) checked, 0 problem(s)." in again.output
    assert runner.invoke(app, ["evidence", "add", "rounds/r1", "b", "1.1", "missing.png"]).exit_code == 1


def test_compare_self_agreement_and_followup(process_repo):
    (process_repo / "rounds/r1/appeals/a.yaml").unlink()
    obs_a = process_repo / "rounds/r1/observations/a.yaml"
    obs_a.write_text(OBS_A.replace("0" * 64, hashlib.sha256("入口截图\n".encode()).hexdigest()), encoding="utf-8")
    over = json.loads(runner.invoke(app, ["compare-self", "rounds/r1", "-f", "json"]).output)
    assert over["over_claimed"] == "6"                   # 1.1: 2 claimed, 0 found; 2: 6 vs 2
    agree = json.loads(runner.invoke(app, ["agreement", "rounds/r1", "-f", "json"]).output)
    assert agree["overall"]["pairs"] == 2 and agree["overall"]["same"] == 2
    write_repo(process_repo, {"rounds/r2/round.toml": MINI_ROUND.replace('"r1"', '"r2"'),
                              "rounds/r2/observations/a.yaml": obs_a.read_text(encoding="utf-8").replace(
                                  "items: {lead: true, plan: false}", "items: {lead: true, plan: true}"),
                              "rounds/r2/observations/b.yaml": OBS_B,
                              "rounds/r2/evidence/a/shot.txt": "入口截图\n"})
    follow = json.loads(runner.invoke(app, ["followup", "rounds/r1", "rounds/r2", "-f", "json"]).output)
    statuses = {(p["unit"], p["indicator"]): p["status"] for p in follow["problems"]}
    assert statuses == {("a", "1.1"): "still-failing", ("a", "2"): "fixed"}
