"""The HTML report in a real browser: headless Chromium opens it from disk.

No console messages, one ranking row per unit, a screenshot, and an injected <script> that
does not run. Chromium comes from Debian's `chromium` package, which .ci/run installs.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from gapctl.api import check, score
from gapctl.report.build import render, write
from tests.report.test_report import injected_repo

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--hide-scrollbars", "--enable-logging=stderr", "--v=0"]


def chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    if CHROMIUM is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is missing; .ci/run installs Debian's chromium package")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    profile = tmp_path / "profile"
    return subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *args],
                          capture_output=True, text=True, timeout=120)


class _Rows(HTMLParser):
    """Counts rows linking to unit pages in the ranking tables, and any element marked pwned."""

    def __init__(self) -> None:
        super().__init__()
        self.unit_links = 0
        self.pwned = False
        self.scripts = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "a" and (values.get("href") or "").startswith("units/"):
            self.unit_links += 1
        if "data-pwned" in values:
            self.pwned = True
        if tag == "script":
            self.scripts += 1


@pytest.fixture(scope="module")
def report_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("browser")
    repo = injected_repo(base / "repo")
    out = base / "report"
    write(render(score(check(repo / "rounds/r1").loaded.round), "html", "zh"), out)
    return out


def test_overview_opens_without_console_messages_and_lists_every_unit(report_dir, tmp_path):
    shot = tmp_path / "overview.png"
    proc = chromium(tmp_path, "--window-size=1200,1600", f"--screenshot={shot}", (report_dir / "index.html").as_uri())
    assert ":CONSOLE" not in proc.stderr, proc.stderr
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 5000
    dom = chromium(tmp_path, "--dump-dom", (report_dir / "index.html").as_uri())
    rows = _Rows()
    rows.feed(dom.stdout)
    assert rows.unit_links == 2        # the ranking table: one row per unit
    assert ":CONSOLE" not in dom.stderr


def test_injected_script_does_not_run(report_dir, tmp_path):
    dom = chromium(tmp_path, "--dump-dom", (report_dir / "units/a.html").as_uri())
    found = _Rows()
    found.feed(dom.stdout)
    assert found.scripts == 0 and not found.pwned
    assert '<script>document.body.setAttribute("data-pwned","1")</script>' in \
        dom.stdout.replace("&lt;", "<").replace("&gt;", ">")   # it is there, as text
    assert ":CONSOLE" not in dom.stderr
