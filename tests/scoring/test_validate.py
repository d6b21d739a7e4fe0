"""Cross-reference and arithmetic checks, on small repositories and on the shipped rounds."""

from __future__ import annotations

from pathlib import Path

import pytest

from gapctl.api import check
from tests.conftest import ROOT, write_repo

SHIPPED_ROUNDS = sorted(p for p in (ROOT / "rounds").iterdir() if p.is_dir())


def found(repo: Path, target: str = "rounds/r1") -> list[tuple[str, int, str]]:
    result = check(repo / target)
    return [(loc.path.split("/")[-1], loc.line, p.code)
            for p in result.report.sorted() for loc in [p.locate()]]


def test_mini_repo_is_clean(mini_repo):
    result = check(mini_repo / "rounds" / "r1")
    assert result.report.problems == []
    assert result.report.exit_code() == 0


@pytest.mark.parametrize("round_dir", SHIPPED_ROUNDS, ids=[p.name for p in SHIPPED_ROUNDS])
def test_shipped_rounds_validate_without_errors_or_warnings(round_dir):
    result = check(round_dir)
    assert [(p.code, p.message) for p in result.report.problems] == []


def test_whole_shipped_repository_is_clean():
    result = check(ROOT)
    assert result.report.problems == []
    assert result.files >= 20


def test_group_points_must_equal_children(mini_repo):
    scheme = (mini_repo / "schemes/mini.yaml").read_text(encoding="utf-8")
    write_repo(mini_repo, {"schemes/mini.yaml": scheme.replace("points: 4\n", "points: 5\n", 1)})
    assert found(mini_repo) == [("mini.yaml", 8, "E401")]
    problem = check(mini_repo / "rounds/r1").report.problems[0]
    assert "children add up to 4 (2 + 2)" in problem.message


def test_items_must_sum_to_the_indicator(mini_repo):
    scheme = (mini_repo / "schemes/mini.yaml").read_text(encoding="utf-8")
    write_repo(mini_repo, {"schemes/mini.yaml": scheme.replace("points: 4}", "points: 3}")})
    assert found(mini_repo) == [("mini.yaml", 25, "E402")]  # the items list


def test_observation_problems_and_warnings(mini_repo):
    write_repo(mini_repo, {"rounds/r1/observations/b.yaml": """\
        unit: b
        results:
          - indicator: "1.2"
            result: done
          - indicator: "2"
            items: {lead: true, plan: false}
          - indicator: "9"
            result: done
        """})
    assert found(mini_repo) == [
        ("b.yaml", 2, "W503"),   # 1.1 not observed
        ("b.yaml", 3, "W502"),   # 1.2 needs the licensing tag
        ("b.yaml", 5, "W504"),   # lost 4 points, no reason
        ("b.yaml", 7, "E302"),   # no indicator 9
    ]


def test_value_that_does_not_fit_its_rule(mini_repo):
    write_repo(mini_repo, {"rounds/r1/observations/b.yaml": """\
        unit: b
        results:
          - indicator: "1.1"
            count: 3
          - indicator: "2"
            items: {lead: true, plna: true}
        """})
    codes = found(mini_repo)
    assert ("b.yaml", 4, "E501") in codes  # all-or-nothing reads result, not count
    assert ("b.yaml", 6, "E501") in codes  # unknown item plna


def test_warnings_alone_exit_zero_unless_strict(mini_repo):
    (mini_repo / "rounds/r1/observations/b.yaml").unlink()
    report = check(mini_repo / "rounds/r1").report
    assert [p.code for p in report.problems] == ["W507"]
    assert report.exit_code() == 0 and report.exit_code(strict=True) == 1


def test_unit_parent_cycle(mini_repo):
    write_repo(mini_repo, {"units/mini.yaml": """\
        id: mini
        name: 测试单位
        units:
          - {id: a, name: 甲, type: 区属部门, parent: b}
          - {id: b, name: 乙, type: 区属部门, parent: a}
        """})
    assert ("mini.yaml", 4, "E303") in found(mini_repo)


def test_evidence_outside_the_round_and_missing(mini_repo):
    write_repo(mini_repo, {"rounds/r1/observations/b.yaml": """\
        unit: b
        results:
          - indicator: "1.1"
            result: done
            evidence:
              - file: ../../../etc/passwd
              - file: evidence/b/none.png
          - indicator: "2"
            items: {lead: true, plan: true}
        """})
    assert found(mini_repo) == [("b.yaml", 6, "E505"), ("b.yaml", 7, "E505")]


def test_evidence_hash_is_checked(mini_repo):
    write_repo(mini_repo, {"rounds/r1/evidence/shot.txt": "截图\n",
                           "rounds/r1/observations/b.yaml": """\
        unit: b
        results:
          - indicator: "1.1"
            result: done
            evidence:
              - {file: evidence/shot.txt, sha256: 0000000000000000000000000000000000000000000000000000000000000000}
          - indicator: "2"
            items: {lead: true, plan: true}
        """})
    assert found(mini_repo) == [("b.yaml", 6, "E506")]


def test_missing_scheme_and_unit_set(mini_repo):
    write_repo(mini_repo, {"rounds/r1/round.toml": 'id = "r1"\ntitle = "t"\nunits = "nope"\n'
                                                   '[[schemes]]\nscheme = "missing"\n'})
    assert found(mini_repo) == [("round.toml", 3, "E302"), ("round.toml", 5, "E302")]
