"""The README's command outputs are real: every `<!-- run: ... -->` block is re-run here."""

from __future__ import annotations

import re
import shlex

import pytest
from typer.testing import CliRunner

from gapctl.cli import app
from tests.conftest import ROOT

BLOCK = re.compile(r"(<!-- run: (?P<cmd>.+?) -->\n```console\n)(?P<body>.*?)(```)", re.S)
FILE = re.compile(r"(<!-- file: (?P<path>.+?) -->\n```yaml\n)(?P<body>.*?)(```)", re.S)


def _render(cmd: str) -> str:
    args = shlex.split(cmd)
    assert args[0] == "gapctl"
    result = CliRunner().invoke(app, args[1:])
    assert result.exit_code in (0, 1) and (result.exception is None or isinstance(result.exception, SystemExit))
    assert "Traceback" not in result.output
    return f"$ {cmd}\n{result.output}"


def test_readme_outputs_are_current(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("GAPCTL_LANG", "zh")  # the README shows what a user sees by default (`--lang en` where it says)
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = list(BLOCK.finditer(readme))
    assert blocks, "the README has no command blocks"
    if request.config.getoption("--update-readme"):
        updated = BLOCK.sub(lambda m: m.group(1) + _render(m.group("cmd")) + m.group(4), readme)
        (ROOT / "README.md").write_text(updated, encoding="utf-8")
        return
    for block in blocks:
        assert block.group("body") == _render(block.group("cmd")), \
            f"README block for `{block.group('cmd')}` is stale: run pytest tests/test_readme.py --update-readme"


def test_readme_file_excerpts_are_the_files(request: pytest.FixtureRequest) -> None:
    """A `<!-- file: path -->` block shows that file as it is (the data-format examples are real)."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = list(FILE.finditer(readme))
    assert blocks, "the README shows no data files"
    if request.config.getoption("--update-readme"):
        updated = FILE.sub(lambda m: m.group(1) + (ROOT / m.group("path")).read_text(encoding="utf-8") + m.group(4),
                           readme)
        (ROOT / "README.md").write_text(updated, encoding="utf-8")
        return
    for block in blocks:
        assert block.group("body") == (ROOT / block.group("path")).read_text(encoding="utf-8"), \
            f"README excerpt of {block.group('path')} is stale: run pytest tests/test_readme.py --update-readme"
