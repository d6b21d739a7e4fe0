"""Provenance on every output, `--rev` without a checkout, and byte-identical outputs in any directory."""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gapctl.cli import app
from gapctl.data.tree import DiskTree
from tests.conftest import MINI_OBS_A, MINI_OBS_B, MINI_ROUND, MINI_SCHEME, MINI_UNITS, ROOT, write_repo

runner = CliRunner()
MINI_FILES = ["rounds/r1/observations/a.yaml", "rounds/r1/observations/b.yaml", "rounds/r1/round.toml",
              "schemes/mini.yaml", "units/mini.yaml"]


def git(repo: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "张三", "GIT_AUTHOR_EMAIL": "z@example.org",
           "GIT_COMMITTER_NAME": "张三", "GIT_COMMITTER_EMAIL": "z@example.org",
           "GIT_AUTHOR_DATE": "2022-01-10T10:00:00+08:00", "GIT_COMMITTER_DATE": "2022-01-10T10:00:00+08:00"}
    return subprocess.run(["git", *args], cwd=repo, check=True, env=env, capture_output=True,
                          text=True).stdout.strip()


def commit_all(repo: Path, message: str = "观测") -> str:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)
    return git(repo, "rev-parse", "HEAD")


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """The mini repository, committed, with a lock file."""
    base = tmp_path / "repo"
    write_repo(base, {"schemes/mini.yaml": MINI_SCHEME, "units/mini.yaml": MINI_UNITS,
                      "rounds/r1/round.toml": MINI_ROUND, "rounds/r1/observations/a.yaml": MINI_OBS_A,
                      "rounds/r1/observations/b.yaml": MINI_OBS_B, "requirements.lock": "typer==0.12\n",
                      "README.md": "某区政务公开考评\n", ".gitignore": ".gapctl-cache/\nout/\n"})
    git(base, "init", "-q", "-b", "main")
    commit_all(base)
    return base


def run_json(*args: str) -> dict:
    result = runner.invoke(app, [*args, "--format", "json"])
    assert result.exit_code in (0, 1), result.output
    return json.loads(result.stdout)


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --- the block ------------------------------------------------------------------------

JSON_COMMANDS = [
    ["score", "rounds/r1"], ["score", "rounds/r1", "--no-cache"], ["explain", "rounds/r1", "a"],
    ["validate", "rounds/r1"], ["validate", "."], ["show", "rounds/r1"], ["status", "rounds/r1"],
    ["evidence", "verify", "rounds/r1"], ["compare-self", "rounds/r1"], ["agreement", "rounds/r1"],
    ["followup", "rounds/r1", "rounds/r1"], ["diff", "rounds/r1", "rounds/r1"], ["diff", "rounds/r1"],
    ["diff", "."], ["trend", "rounds/r1"],
]


@pytest.mark.parametrize("command", JSON_COMMANDS, ids=" ".join)
def test_every_json_output_says_what_it_was_computed_from(repo, monkeypatch, command):
    monkeypatch.chdir(repo)
    data = run_json(*command)
    assert list(data)[:2] == ["version", "provenance"]
    block = data["provenance"]
    assert block["commit"] == git(repo, "rev-parse", "HEAD")
    assert block["committed"] == "2022-01-10T10:00:00+08:00"
    assert block["dirty"] is False and block["uncommitted"] == []
    assert block["gapctl"] == data["version"]
    assert block["requirements_lock"] == sha(repo / "requirements.lock")
    assert [f["path"] for f in block["files"]] == MINI_FILES  # relative to the root, sorted, each once
    assert all(f["sha256"] == sha(repo / f["path"]) for f in block["files"])
    manifest = "".join(f"{f['sha256']}  {f['path']}\n" for f in block["files"])
    assert block["digest"] == hashlib.sha256(manifest.encode()).hexdigest()  # `sha256sum` of the list


def test_show_of_one_file_names_that_file(repo, monkeypatch):
    monkeypatch.chdir(repo / "schemes")
    block = run_json("show", "mini.yaml")["provenance"]
    assert [f["path"] for f in block["files"]] == ["schemes/mini.yaml"]


def test_a_changed_file_used_makes_it_dirty_and_others_do_not(repo, monkeypatch):
    monkeypatch.chdir(repo)
    (repo / "README.md").write_text("改了说明\n", encoding="utf-8")  # not used by the round
    (repo / "rounds/r1/notes.txt").write_text("草稿\n", encoding="utf-8")  # untracked, not a data file
    block = run_json("score", "rounds/r1")["provenance"]
    assert block["dirty"] is False
    (repo / "rounds/r1/observations/b.yaml").write_text(MINI_OBS_B + "# 复核\n", encoding="utf-8")
    block = run_json("score", "rounds/r1")["provenance"]
    assert block["dirty"] is True and block["uncommitted"] == ["rounds/r1/observations/b.yaml"]
    assert {f["path"]: f["sha256"] for f in block["files"]}["rounds/r1/observations/b.yaml"] == \
        sha(repo / "rounds/r1/observations/b.yaml")  # the bytes read, not the committed ones
    write_repo(repo, {"rounds/r1/observations/c.yaml": MINI_OBS_B.replace("unit: b", "unit: c")})
    block = run_json("validate", "rounds/r1")["provenance"]
    assert "rounds/r1/observations/c.yaml" in block["uncommitted"]  # a new file is not committed either


def test_outside_git_the_commit_is_null_not_an_error(repo, tmp_path, monkeypatch):
    plain = tmp_path / "plain"
    shutil.copytree(repo, plain, ignore=shutil.ignore_patterns(".git"))
    (plain / "requirements.lock").unlink()
    monkeypatch.chdir(plain)
    result = runner.invoke(app, ["score", "rounds/r1", "--format", "json"])
    assert result.exit_code == 0, result.output
    block = json.loads(result.stdout)["provenance"]
    assert (block["commit"], block["committed"], block["dirty"], block["requirements_lock"]) == (None, None, None, None)
    assert [f["path"] for f in block["files"]] == MINI_FILES


def test_a_round_in_a_subdirectory_of_the_git_repository(tmp_path, monkeypatch):
    """The data repository need not be the git repository's top: paths stay relative to the data."""
    top = tmp_path / "top"
    write_repo(top / "zwgk", {"schemes/mini.yaml": MINI_SCHEME, "units/mini.yaml": MINI_UNITS,
                              "rounds/r1/round.toml": MINI_ROUND, "rounds/r1/observations/a.yaml": MINI_OBS_A,
                              "rounds/r1/observations/b.yaml": MINI_OBS_B})
    git(top, "init", "-q", "-b", "main")
    commit_all(top)
    (top / "zwgk/rounds/r1/observations/a.yaml").write_text(MINI_OBS_A + "# 改\n", encoding="utf-8")
    monkeypatch.chdir(top)
    block = run_json("score", "zwgk/rounds/r1")["provenance"]
    assert [f["path"] for f in block["files"]] == MINI_FILES
    assert block["dirty"] is True and block["uncommitted"] == ["rounds/r1/observations/a.yaml"]


def test_the_hashes_the_cache_keys_need_are_reused(repo, monkeypatch):
    """`score` hashes each observation file once, for its cache key; provenance takes that hash."""
    from gapctl.review import provenance
    from gapctl.scoring import outcomes
    monkeypatch.chdir(repo)
    checked = outcomes.check(Path("rounds/r1"))
    hashes = checked.plans[0].hashes
    assert {p.as_posix(): h for p, h in hashes.items() if "observations" in p.as_posix()} == {
        f"rounds/r1/observations/{u}.yaml": sha(repo / f"rounds/r1/observations/{u}.yaml") for u in "ab"}
    read: list[str] = []
    monkeypatch.setattr(DiskTree, "read_bytes", lambda self, path: read.append(Path(path).name) or
                        Path(path).read_bytes())
    block = provenance.of_rounds([checked.loaded.round], hashes)
    assert "a.yaml" not in read and "b.yaml" not in read and "mini.yaml" in read  # units: not hashed before
    assert [p for p, _ in block.files] == MINI_FILES


def test_rounds_a_round_imports_from_are_listed(tmp_path, monkeypatch):
    """Suizhou 2022 uses its scheme from 2021; a round that imports another's deductions lists that
    round's files too (they decide its totals)."""
    monkeypatch.chdir(ROOT)
    block = run_json("score", "rounds/suizhou-2022")["provenance"]
    paths = [f["path"] for f in block["files"]]
    assert "schemes/suizhou-2021.yaml" in paths and "units/suizhou-gxq.yaml" in paths
    assert "rounds/suizhou-2022/external/city-2022.yaml" in paths
    assert not [p for p in paths if p.startswith("rounds/suizhou-2021/")]


# --- score --rev ----------------------------------------------------------------------

def test_score_at_a_revision_without_a_checkout(repo, monkeypatch):
    monkeypatch.chdir(repo)
    before = run_json("score", "rounds/r1")
    first = git(repo, "rev-parse", "HEAD")
    (repo / "rounds/r1/observations/b.yaml").write_text(
        MINI_OBS_B.replace("items: {lead: true, plan: true}", "items: {lead: true, plan: false}"), encoding="utf-8")
    second = commit_all(repo, "区档案馆：未研究部署")
    after = run_json("score", "rounds/r1")
    assert before["units"] != after["units"]
    shutil.rmtree(repo / "rounds/r1")  # nothing of the round on disk: read from git's objects
    at_first = run_json("score", "rounds/r1", "--rev", first)
    assert at_first["units"] == before["units"]
    assert at_first["provenance"]["commit"] == first and at_first["provenance"]["dirty"] is False
    assert at_first["provenance"]["files"] == before["provenance"]["files"]
    at_head = run_json("score", "rounds/r1", "--rev", "HEAD")
    assert at_head["units"] == after["units"] and at_head["provenance"]["commit"] == second
    assert git(repo, "status", "--porcelain", "--", "rounds") != ""  # the working tree was not touched
    table = runner.invoke(app, ["score", "rounds/r1", "--rev", "HEAD~1"])
    assert table.exit_code == 0 and "区档案馆" in table.stdout


def test_score_rev_that_does_not_exist_could_not_run(repo, monkeypatch):
    monkeypatch.chdir(repo)
    result = runner.invoke(app, ["score", "rounds/r1", "--rev", "no-such-tag"])
    assert result.exit_code == 3
    assert "no-such-tag" in result.output and "Traceback" not in result.output
    missing = runner.invoke(app, ["score", "rounds/r9", "--rev", "HEAD"])
    assert missing.exit_code == 1


def test_score_rev_reads_the_rounds_a_round_imports_at_that_revision(tmp_path, monkeypatch):
    """Suizhou's 2022 round takes last year's scheme; at a revision, every file comes from that revision."""
    base = tmp_path / "sz"
    for rel in ["schemes/suizhou-2021.yaml", "units/suizhou-gxq.yaml"]:
        (base / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / rel, base / rel)
    shutil.copytree(ROOT / "rounds/suizhou-2022", base / "rounds/suizhou-2022")
    git(base, "init", "-q", "-b", "main")
    commit_all(base)
    monkeypatch.chdir(base)
    expected = run_json("score", "rounds/suizhou-2022")["units"]
    (base / "schemes/suizhou-2021.yaml").write_text("id: broken\n", encoding="utf-8")  # the working tree broken
    assert run_json("score", "rounds/suizhou-2022", "--rev", "HEAD")["units"] == expected


# --- reports and exports --------------------------------------------------------------

def test_reports_and_exports_carry_the_block(repo, monkeypatch):
    monkeypatch.chdir(repo)
    head = git(repo, "rev-parse", "HEAD")
    for fmt in ("md", "html"):
        assert runner.invoke(app, ["report", "rounds/r1", "--format", fmt, "--out", f"out/{fmt}"]).exit_code == 0
        index = (repo / f"out/{fmt}/index.{fmt}").read_text(encoding="utf-8")
        assert "数据来源" in index and head in index and sha(repo / "requirements.lock") in index
        assert all(sha(repo / rel) in index and rel in index for rel in MINI_FILES)
        unit = (repo / f"out/{fmt}/units/a.{fmt}").read_text(encoding="utf-8")
        assert head[:12] in unit  # a line on every unit's page
    report_html = (repo / "out/html/report.html").read_text(encoding="utf-8")
    assert head in report_html  # the print version (and so the PDF) too
    assert runner.invoke(app, ["report", "rounds/r1", "--format", "docx", "--out", "out/r1.docx"]).exit_code == 0
    with zipfile.ZipFile(repo / "out/r1.docx") as docx:
        document = docx.read("word/document.xml").decode("utf-8")
    assert head in document and sha(repo / "schemes/mini.yaml") in document
    for fmt in ("csv", "xlsx", "datapackage"):
        assert runner.invoke(app, ["export", "rounds/r1", "--format", fmt, "--out", f"out/e-{fmt}"]).exit_code == 0
    sidecar = json.loads((repo / "out/e-csv/provenance.json").read_text(encoding="utf-8"))
    assert sidecar["provenance"]["commit"] == head and sidecar["round"] == "r1"
    package = json.loads((repo / "out/e-datapackage/datapackage.json").read_text(encoding="utf-8"))
    assert package["provenance"] == sidecar["provenance"]
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.load_workbook(repo / "out/e-xlsx/r1.xlsx")
    assert book.sheetnames[-1] == "数据来源"
    cells = {row[0]: row[1] for row in book["数据来源"].iter_rows(values_only=True)}
    assert cells["提交 (commit)"] == head and cells["schemes/mini.yaml"] == sha(repo / "schemes/mini.yaml")
    assert cells["文件清单 sha256"] == package["provenance"]["digest"]


def test_a_dirty_tree_is_said_in_the_report(repo, monkeypatch):
    monkeypatch.chdir(repo)
    (repo / "rounds/r1/observations/a.yaml").write_text(MINI_OBS_A + "# 待复核\n", encoding="utf-8")
    assert runner.invoke(app, ["report", "rounds/r1", "--format", "md", "--out", "out/md"]).exit_code == 0
    index = (repo / "out/md/index.md").read_text(encoding="utf-8")
    assert "所用文件中有 1 个与该提交不一致：rounds/r1/observations/a.yaml" in index
    assert "含未提交的修改" in (repo / "out/md/units/a.md").read_text(encoding="utf-8")
    assert runner.invoke(app, ["report", "rounds/r1", "--format", "md", "--lang", "en", "--out", "en"]).exit_code == 0
    english = (repo / "en/index.md").read_text(encoding="utf-8")
    assert "## Provenance" in english and "1 file(s) used differ from the commit" in english


def test_report_in_chinese_names_the_block_in_chinese(repo, monkeypatch):
    monkeypatch.chdir(repo)
    assert runner.invoke(app, ["report", "rounds/r1", "--format", "md", "--lang", "zh", "--out", "o"]).exit_code == 0
    index = (repo / "o/index.md").read_text(encoding="utf-8")
    assert "## 数据来源" in index and "Provenance" not in index and "所用文件均无未提交的修改" in index


# --- byte-identical in any directory ------------------------------------------------------

def _outputs(directory: Path) -> dict[str, bytes]:
    return {p.relative_to(directory).as_posix(): p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file()}


RENDERS = [["report", "rounds/suizhou-2022", "--format", "html", "--out", "out/html",
            "--compare", "rounds/suizhou-2021"],
           ["report", "rounds/suizhou-2022", "--format", "md", "--out", "out/md"],
           ["report", "rounds/suizhou-2022", "--format", "docx", "--out", "out/report.docx",
            "--office", "随州高新区政务公开办", "--date", "2023-02-18"],
           ["export", "rounds/suizhou-2022", "--format", "csv", "--out", "out/csv"],
           ["export", "rounds/suizhou-2022", "--format", "xlsx", "--out", "out/xlsx"],
           ["export", "rounds/suizhou-2022", "--format", "datapackage", "--out", "out/datapackage"]]


def test_the_same_revision_gives_the_same_bytes_in_any_directory(tmp_path, monkeypatch):
    """Two clones of one commit at different paths: every report and export byte for byte the same,
    and no path of either clone in them (nor the time of the run)."""
    first = tmp_path / "a"
    for rel in ["schemes/suizhou-2021.yaml", "units/suizhou-gxq.yaml", "requirements.lock"]:
        (first / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / rel, first / rel)
    for name in ("suizhou-2021", "suizhou-2022"):
        shutil.copytree(ROOT / "rounds" / name, first / "rounds" / name)
    (first / ".gitignore").write_text("out/\n.gapctl-cache/\n", encoding="utf-8")
    git(first, "init", "-q", "-b", "main")
    head = commit_all(first)
    second = tmp_path / "elsewhere" / "深层" / "b"
    second.parent.mkdir(parents=True)
    subprocess.run(["git", "clone", "-q", str(first), str(second)], check=True)
    outputs = []
    for clone in (first, second):
        monkeypatch.chdir(clone)
        for command in RENDERS:
            result = runner.invoke(app, command)
            assert result.exit_code == 0, result.output
        outputs.append(_outputs(clone / "out"))
    assert sorted(outputs[0]) == sorted(outputs[1])
    assert len(outputs[0]) > 20
    for name, data in outputs[0].items():
        assert data == outputs[1][name], f"{name} differs between two directories"
    texts = [data for name, data in outputs[0].items() if not name.endswith((".docx", ".xlsx"))]
    with zipfile.ZipFile(io.BytesIO(outputs[0]["report.docx"])) as docx:
        texts += [docx.read(n) for n in docx.namelist()]
    with zipfile.ZipFile(io.BytesIO(outputs[0]["xlsx/suizhou-2022.xlsx"])) as book:
        texts += [book.read(n) for n in book.namelist()]
    for data in texts:
        assert str(tmp_path).encode() not in data and b"/elsewhere/" not in data
    assert head.encode() in outputs[0]["md/index.md"]
    # the working tree changed and the round gone: --rev HEAD still gives the very same bytes
    monkeypatch.chdir(second)
    shutil.rmtree(second / "out")
    shutil.rmtree(second / "rounds" / "suizhou-2022")
    (second / "rounds" / "suizhou-2021" / "observations" / "finance.yaml").write_text("unit: finance\n",
                                                                                       encoding="utf-8")
    for command in RENDERS:
        result = runner.invoke(app, [*command, "--rev", "HEAD"])
        assert result.exit_code == 0, result.output
    assert _outputs(second / "out") == outputs[0]


def test_the_readme_shows_the_blocks_real_shape(monkeypatch):
    """The docs' provenance example (not a run block: the commit changes with every commit) has
    exactly the keys `score --format json` gives, in the same order."""
    import re

    readme = (ROOT / "docs" / "provenance.en.md").read_text(encoding="utf-8")
    example = readme[readme.index("<!-- provenance example"):]
    example = example[example.index("```json\n"):example.index("\n```\n")]
    shown = re.findall(r'^    "(\w+)":', example, re.M)
    monkeypatch.chdir(ROOT)
    data = run_json("score", "rounds/suizhou-2021")
    assert shown == list(data["provenance"])
    assert re.findall(r'^  "(\w+)":', example, re.M)[:3] == list(data)[:3]
    files = data["provenance"]["files"]
    assert f'"path": "{files[0]["path"]}",\n        "sha256": "{files[0]["sha256"]}"' in example
