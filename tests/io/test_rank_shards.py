"""`gapctl rank --from PARQUET…`: ranking the units of two exported rounds together gives the ranks
that one round holding all of them gives (score's tie and category rules, called, not copied)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gapctl.cli import app
from tests.conftest import MINI_SCHEME, write_repo

runner = CliRunner()

SCHEME = MINI_SCHEME + """\
ranking:
  of: total
  categories:
    - {id: dept, name: 区属部门, unit_types: [区属部门]}
    - {id: town, name: 乡镇街道, unit_types: [乡镇]}
"""

# (id, name, type, licensing?, 1.1 done?, 1.2 done?, lead, plan): totals with ties inside and across halves
UNITS = [
    ("u1", "区财政局", "区属部门", True, True, True, True, True),      # 10
    ("u2", "区档案馆", "区属部门", False, True, False, True, True),    # 8 of 8
    ("u3", "城关镇", "乡镇", False, True, False, False, True),         # 6
    ("u4", "河西镇", "乡镇", True, False, False, True, False),         # 2
    ("u5", "区教育局", "区属部门", True, True, False, True, True),     # 8 of 10
    ("u6", "东城街道", "乡镇", False, True, False, False, True),       # 6
    ("u7", "区水利局", "区属部门", False, False, False, True, True),   # 6
    ("u8", "北山镇", "乡镇", False, False, False, False, False),       # 0
]


def unit_set(set_id: str, units: list[tuple]) -> str:
    lines = [f"id: {set_id}", "name: 测试单位", "units:"]
    for uid, name, kind, licensing, *_ in units:
        tags = ", tags: [licensing]" if licensing else ""
        lines.append(f"  - {{id: {uid}, name: {name}, type: {kind}{tags}}}")
    return "\n".join(lines) + "\n"


def observation(unit: tuple) -> str:
    uid, _name, _kind, licensing, one, two, lead, plan = unit
    lines = [f"unit: {uid}", "results:", '  - indicator: "1.1"', f"    result: {'done' if one else 'not-done'}"]
    if licensing:
        lines += ['  - indicator: "1.2"', f"    result: {'done' if two else 'not-done'}"]
    lines += ['  - indicator: "2"', f"    items: {{lead: {str(lead).lower()}, plan: {str(plan).lower()}}}"]
    return "\n".join(lines) + "\n"


def round_toml(round_id: str, units: str) -> str:
    return f'id = "{round_id}"\ntitle = "测试轮次 {round_id}"\nexample = true\nunits = "{units}"\n' \
           '[[schemes]]\nscheme = "mini"\n'


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    files = {"schemes/mini.yaml": SCHEME, "units/all.yaml": unit_set("all", UNITS),
             "units/north.yaml": unit_set("north", UNITS[:4]), "units/south.yaml": unit_set("south", UNITS[4:]),
             "rounds/all/round.toml": round_toml("all", "all"),
             "rounds/north/round.toml": round_toml("north", "north"),
             "rounds/south/round.toml": round_toml("south", "south")}
    for n, unit in enumerate(UNITS):
        for round_id in ("all", "north" if n < 4 else "south"):
            files[f"rounds/{round_id}/observations/{unit[0]}.yaml"] = observation(unit)
    return write_repo(tmp_path / "repo", files)


def invoke(*args: str, code: int = 0) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == code, result.output
    return result.stdout


def test_two_shards_rank_as_one_round(repo: Path, tmp_path: Path) -> None:
    whole = json.loads(invoke("score", str(repo / "rounds/all"), "--format", "json"))["units"]
    expected = {u["unit"]: (u["rank"], u["category_rank"], u["total"]) for u in whole}
    assert sorted(r for r, _c, _t in expected.values()) == [1, 2, 2, 4, 4, 4, 7, 8]  # ties, and ranks skip
    invoke("export", str(repo / "rounds/north"), "--format", "parquet", "--out", str(tmp_path / "a"))
    invoke("export", str(repo / "rounds/south"), "--format", "parquet", "--out", str(tmp_path / "b"))
    ranked = json.loads(invoke("rank", "--from", str(tmp_path / "a"), "--from", str(tmp_path / "b"), "--format",
                               "json"))["units"]
    assert {u["unit"]: (u["rank"], u["category_rank"], u["total"]) for u in ranked} == expected
    assert {u["unit"]: u["round"] for u in ranked} == {u[0]: "north" if n < 4 else "south" for n, u in enumerate(UNITS)}
    assert [u["unit"] for u in ranked] == [u["unit"] for u in sorted(whole, key=lambda u: (u["rank"], u["unit"]))]


def test_by_category_and_the_text_table(repo: Path, tmp_path: Path) -> None:
    invoke("export", str(repo / "rounds/north"), str(repo / "rounds/south"), "--format", "parquet",
           "--out", str(tmp_path / "ds"))
    ranked = json.loads(invoke("rank", "--from", str(tmp_path / "ds"), "--by-category", "--format", "json"))["units"]
    assert [(u["category"], u["category_rank"]) for u in ranked] == \
        [("dept", 1), ("dept", 2), ("dept", 2), ("dept", 4), ("town", 1), ("town", 1), ("town", 3), ("town", 4)]
    text = invoke("rank", "--from", str(tmp_path / "ds"))
    assert "8 units of 2 rounds, ranked together" in text and "区财政局" in text
    csv = invoke("rank", "--from", str(tmp_path / "ds" / "units" / "round=north"), "--format", "csv")
    assert csv.splitlines()[0] == "scheme,rank,category_rank,round,unit,name,type,category,total,grade"
    assert len(csv.splitlines()) == 5  # one round's partition: its 4 units ranked among themselves


def test_the_same_round_twice_is_refused(repo: Path, tmp_path: Path) -> None:
    invoke("export", str(repo / "rounds/north"), "--format", "parquet", "--out", str(tmp_path / "a"))
    invoke("export", str(repo / "rounds/north"), "--format", "parquet", "--out", str(tmp_path / "b"))
    result = runner.invoke(app, ["rank", "--from", str(tmp_path / "a"), "--from", str(tmp_path / "b")])
    assert result.exit_code == 1
    assert "unit u1 of round north is in" in result.stderr


def test_nothing_to_rank(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    result = runner.invoke(app, ["rank", "--from", str(tmp_path / "empty")])
    assert result.exit_code == 1 and "no units table" in result.stderr
