"""Shared fixtures: the repository root and a builder of small repositories in tmp_path."""

from __future__ import annotations

import importlib.util
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import gapctl  # noqa: F401  first: it keeps openpyxl off lxml (OPENPYXL_LXML=False) before a test imports openpyxl

ROOT = Path(__file__).resolve().parent.parent

MINI_SCHEME = """\
id: mini
title: 测试指标体系
tags:
  licensing: 提供行政许可等服务的部门
indicators:
  - id: "1"
    name: 公开渠道
    points: 4
    children:
      - id: "1.1"
        name: 渠道覆盖
        points: 2
        rule: {kind: all-or-nothing}
      - id: "1.2"
        name: 行政许可信息
        points: 2
        applies_to: {tags: [licensing]}
        rule: {kind: all-or-nothing}
  - id: "2"
    name: 组织领导
    points: 6
    rule:
      kind: items
      items:
        - {id: lead, name: 明确分管领导, points: 2}
        - {id: plan, name: 研究部署, points: 4}
"""

MINI_UNITS = """\
id: mini
name: 测试单位
units:
  - {id: a, name: 区财政局, type: 区属部门, tags: [licensing]}
  - {id: b, name: 区档案馆, type: 区属部门}
"""

MINI_ROUND = """\
id = "r1"
title = "测试轮次"
example = true
units = "mini"
[[schemes]]
scheme = "mini"
"""

MINI_OBS_A = """\
unit: a
observer: 张三
results:
  - indicator: "1.1"
    result: done
  - indicator: "1.2"
    result: not-done
    reason: 未公开行政许可结果
    fix: 及时公开
  - indicator: "2"
    items: {lead: true, plan: true}
"""

MINI_OBS_B = """\
unit: b
results:
  - indicator: "1.1"
    result: done
  - indicator: "2"
    items: {lead: true, plan: true}
"""


# a small scheme with four rule kinds (all-or-nothing, count-tiers, items, proportional)
FOUR_KINDS_SCHEME = """\
id: {id}
title: {title}
indicators:
  - id: "1"
    name: 公开渠道
    points: 4
    children:
      - id: "1.1"
        name: 渠道覆盖
        name_en: Channels
        points: 2
        rule: {{kind: all-or-nothing}}
      - id: "1.2"
        name: 解读次数
        points: 2
        rule:
          kind: count-tiers
          tiers: [{{at_least: 1, points: 1}}, {{at_least: 3, points: 2}}]
  - id: "2"
    name: 组织领导
    points: 6
    rule:
      kind: items
      items:
        - {{id: lead, name: 明确分管领导, points: 2}}
        - {{id: plan, name: 研究部署, points: 4}}
  - id: "3"
    name: 目录完整
    points: 4
    rule: {{kind: proportional}}
"""


# FOUR_KINDS_SCHEME's leaves all observed in full: 1.1 done, 1.2 three times, 2 both items, 3 all of it
KINDS_OBS = """\
unit: {unit}
results:
  - indicator: "1.1"
    result: done
  - indicator: "1.2"
    count: 3
  - indicator: "2"
    items: {{lead: true, plan: true}}
  - indicator: "3"
    fraction: 1
"""


def kinds_round(title: str) -> dict[str, str]:
    """The files (for write_repo) of round r1 over FOUR_KINDS_SCHEME (scheme k, titled `title`), units a and
    b of MINI_UNITS both observed as KINDS_OBS: the valid round the import tests and fuzz/ start from."""
    return {
        "schemes/k.yaml": FOUR_KINDS_SCHEME.format(id="k", title=title),
        "units/mini.yaml": MINI_UNITS,
        "rounds/r1/round.toml": 'id = "r1"\ntitle = "导入"\nexample = true\nunits = "mini"\n'
                                '[[schemes]]\nscheme = "k"\n',
        "rounds/r1/observations/a.yaml": KINDS_OBS.format(unit="a"),
        "rounds/r1/observations/b.yaml": KINDS_OBS.format(unit="b"),
    }


@pytest.fixture(autouse=True)
def _not_in_ci_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests run as on a workstation whether or not CI=true: gapctl's CI mode (no symbolic link
    followed, gapctl.data.reads) is tested where a test sets GAPCTL_CI=1 itself."""
    monkeypatch.setenv("GAPCTL_CI", "0")


@pytest.fixture(autouse=True)
def _english_unless_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests that assert on message text read English (GAPCTL_LANG=en); the Chinese default is
    tested where a test asks for it (tests/test_i18n.py, the README's outputs)."""
    from gapctl import i18n

    monkeypatch.setenv("GAPCTL_LANG", "en")
    i18n.use(None)


@pytest.fixture
def root() -> Path:
    return ROOT


def write_repo(base: Path, files: dict[str, str | bytes]) -> Path:
    for rel, content in files.items():
        path = base / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(textwrap.dedent(content), encoding="utf-8")
    return base


@pytest.fixture
def mini_repo(tmp_path: Path) -> Path:
    """A small valid repository: one scheme, two units, one round with both observed."""
    return write_repo(tmp_path, {
        "schemes/mini.yaml": MINI_SCHEME,
        "units/mini.yaml": MINI_UNITS,
        "rounds/r1/round.toml": MINI_ROUND,
        "rounds/r1/observations/a.yaml": MINI_OBS_A,
        "rounds/r1/observations/b.yaml": MINI_OBS_B,
    })


@pytest.fixture
def own_cache_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The cache on (whatever GAPCTL_NO_CACHE the shell sets) and under this test's tmp_path, never the
    user's: for the modules that test it (`pytestmark = pytest.mark.usefixtures("own_cache_home")`)."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("GAPCTL_NO_CACHE", raising=False)
    monkeypatch.delenv("GAPCTL_CACHE_DIR", raising=False)


def copy_repo(tmp_path: Path) -> Path:
    """A copy of the shipped data (schemes, units, rounds, calendars) in tmp_path/repo, to edit."""
    repo = tmp_path / "repo"
    for name in ("schemes", "units", "rounds", "calendars"):
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, repo / name)
    return repo


def pools_renewing(monkeypatch: pytest.MonkeyPatch) -> list[int | None]:
    """The `maxtasksperchild` of every multiprocessing pool made from now on (None: its workers kept to the end), in
    the order they are made: how often gapctl.scoring.executors.forked_pool forks its workers again."""
    import multiprocessing.pool

    asked: list[int | None] = []
    start = multiprocessing.pool.Pool.__init__

    def recorded(self, processes=None, initializer=None, initargs=(), maxtasksperchild=None, context=None):
        asked.append(maxtasksperchild)
        start(self, processes, initializer, initargs, maxtasksperchild, context)
    monkeypatch.setattr(multiprocessing.pool.Pool, "__init__", recorded)
    return asked


def run_generate_script(case: Path, target: Path) -> None:
    """A bad-input case's `generate.py`, when it has one, makes its files in `target` (files too large,
    too odd or too many to commit: tests/bad/ and its import cases)."""
    script = case / "generate.py"
    if script.is_file():
        spec = importlib.util.spec_from_file_location(f"generate_{case.name.replace('-', '_')}", script)
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        module.generate(target)


def gapctl_command() -> list[str]:
    """The installed console script beside this interpreter, else `python -m gapctl`: for the tests that run
    the real executable in a process of its own."""
    script = Path(sys.executable).with_name("gapctl")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "gapctl"]


def crashed_or_exit(name: str, proc: subprocess.CompletedProcess[bytes], code: int) -> str | None:
    """What is wrong with a bad-input case's run of the executable, before its problems are read: a
    traceback (or an internal error), or another exit code than `code`; None when neither."""
    out = proc.stdout.decode("utf-8", "replace") + proc.stderr.decode("utf-8", "replace")
    if "Traceback" in out or "internal error" in out:
        return f"{name}: crashed (exit {proc.returncode}):\n{out[-3000:]}"
    if proc.returncode != code:
        return f"{name}: exit {proc.returncode}, expected {code}:\n{out[-3000:]}"
    return None


def without_version(text: str) -> str:
    """Output with gapctl's version blanked, so that golden files survive a release; and the state of
    the repository in a JSON output's provenance (without_git_state)."""
    from gapctl import __version__
    return without_git_state(text.replace(f'"version": "{__version__}"', '"version": "<gapctl version>"'))


_PROVENANCE = re.compile(r'^  "provenance": \{\n.*?^  \},?\n', re.S | re.M)
_GIT_STATE = re.compile(r'^(    "(?:commit|committed|dirty|gapctl|requirements_lock)": ).*?(,?)$', re.M)
_UNCOMMITTED = re.compile(r'^(    "uncommitted": )\[.*?\](,?)$', re.M | re.S)


def without_provenance(text: str) -> str:
    """A JSON output without its `provenance` block (whose file hashes change with every edit of a
    file, while the figures may not)."""
    return _PROVENANCE.sub("", text)


def without_git_state(text: str) -> str:
    """A JSON output with the commit, its date, whether the tree is dirty, gapctl's version and the lock
    file's hash blanked in its `provenance` (they change with every commit of gapctl's own repository);
    the files and their hashes stay, so a golden file still says what was read."""
    def blank(match: re.Match[str]) -> str:
        block = _GIT_STATE.sub(lambda m: f'{m.group(1)}"<{m.group(1).strip()[1:-2]}>"{m.group(2)}', match.group())
        return _UNCOMMITTED.sub(lambda m: f'{m.group(1)}"<uncommitted>"{m.group(2)}', block)
    return _PROVENANCE.sub(blank, text)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-readme", action="store_true",
                     help="rewrite the README's command outputs from real runs")
    parser.addoption("--update-golden", action="store_true",
                     help="rewrite golden files under tests/golden/ from real runs")
