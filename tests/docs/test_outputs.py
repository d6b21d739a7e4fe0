"""Every command output shown in the README and on the docs site is real.

Each `<!-- run: gapctl ... -->` block of README.md and of every Markdown page under docs/ (Chinese
`page.md` and English `page.en.md` alike) is run here and compared with what the page shows; each
`<!-- file: path -->` block is compared with that file. `pytest tests/docs --update-readme` rewrites
the blocks from real runs. A command line is run once per session, however many pages show it (the
tour in the README, its page on the site and the English version of that page share one run).
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable

import pytest
from typer.testing import CliRunner

from gapctl.cli import app
from tests.conftest import ROOT

BLOCK = re.compile(r"(<!-- run: (?P<cmd>.+?) -->\n```console\n)(?P<body>.*?)(```)", re.S)
FILE = re.compile(r"(<!-- file: (?P<path>.+?) -->\n```yaml\n)(?P<body>.*?)(```)", re.S)
SQL = re.compile(r"```sql\n.*?```", re.S)
PAGES = ["README.md", *sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "docs").rglob("*.md"))]
_RUNS: dict[str, str] = {}  # command line → its output, for the whole session


def _render(cmd: str) -> str:
    if cmd not in _RUNS:
        from gapctl import i18n

        args = shlex.split(cmd)
        assert args[0] == "gapctl"
        i18n.use(None)  # each block starts as a new process does: an earlier block's `--lang en` does not carry over
        try:
            result = CliRunner().invoke(app, args[1:])
        finally:
            i18n.use(None)
        assert result.exit_code in (0, 1) and (result.exception is None or isinstance(result.exception, SystemExit))
        assert "Traceback" not in result.output
        _RUNS[cmd] = f"$ {cmd}\n{result.output}"
    return _RUNS[cmd]


def _check(rel: str, pattern: re.Pattern[str], key: str, make: Callable[[str], str], update: bool) -> int:
    path = ROOT / rel
    text = path.read_text(encoding="utf-8")
    blocks = list(pattern.finditer(text))
    if update:
        updated = pattern.sub(lambda m: m.group(1) + make(m.group(key)) + m.group(4), text)
        if updated != text:
            path.write_text(updated, encoding="utf-8")
        return len(blocks)
    for block in blocks:
        assert block.group("body") == make(block.group(key)), \
            f"{rel}: the block for `{block.group(key)}` is stale: run pytest tests/docs --update-readme"
    return len(blocks)


@pytest.mark.parametrize("rel", PAGES)
def test_command_outputs_are_current(rel: str, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("GAPCTL_LANG", "zh")  # what a user sees by default (`--lang en` where the page says)
    shown = _check(rel, BLOCK, "cmd", _render, request.config.getoption("--update-readme"))
    if rel == "README.md" or (rel.startswith("docs/commands/") and "/index." not in rel):
        assert shown, f"{rel} shows no command output"


@pytest.mark.parametrize("rel", PAGES)
def test_file_excerpts_are_the_files(rel: str, request: pytest.FixtureRequest) -> None:
    """A `<!-- file: path -->` block shows that file as it is (the data-format examples are real)."""
    _check(rel, FILE, "path", lambda p: (ROOT / p).read_text(encoding="utf-8"),
           request.config.getoption("--update-readme"))


def _pairs() -> list[tuple[str, str]]:
    return [(rel, rel[: -len(".en.md")] + ".md") for rel in PAGES if rel.endswith(".en.md")]


def test_every_page_has_both_languages() -> None:
    """A Chinese page (`page.md`, the default language) for every English one (`page.en.md`) and the
    other way round; only the generated references (one file for both) stand alone."""
    english = {zh for _, zh in _pairs()}
    chinese = {rel for rel in PAGES if rel.startswith("docs/") and not rel.endswith(".en.md")}
    assert english - chinese == set(), "English pages without a Chinese page"
    assert chinese - english == {"docs/rules.md", "docs/problems.md"}, "Chinese pages without an English page"


@pytest.mark.parametrize("en, zh", _pairs(), ids=[zh for _, zh in _pairs()])
def test_both_languages_show_the_same_examples(en: str, zh: str) -> None:
    """The two versions of a page run the same commands (the English one may add `--lang en`), show the
    same files and give the same SQL: a translation cannot quietly drop or change an example."""
    def examples(rel: str) -> tuple[list[str], list[str], list[str]]:
        text = (ROOT / rel).read_text(encoding="utf-8")
        commands = [" ".join(a for a in shlex.split(m.group("cmd")) if a not in ("--lang", "en"))
                    for m in BLOCK.finditer(text)]
        return commands, [m.group("path") for m in FILE.finditer(text)], SQL.findall(text)

    assert examples(en) == examples(zh)
