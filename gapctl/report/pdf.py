"""The report as PDF: the one-file HTML report (report.html) printed by headless Chromium.

Chromium lays out the print CSS of gapctl.report.html (A4, CSS margin boxes with the office,
number, banners and 第 x 页，共 y 页, the watermark) and embeds the fonts it used, so the PDF reads
the same on a machine without a Chinese font. gapctl draws no PDF itself: where no Chromium is
installed (`GAPCTL_CHROMIUM`, else `chromium`, `chromium-browser`, `google-chrome` on the PATH),
`print_pdf` raises NoBrowser and `gapctl report` says so in one line and exits 3 (could not run).
Chromium runs with a throw-away profile, no network services and no sandbox (containers and CI
run as root), and is stopped after `TIMEOUT` seconds.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from gapctl.i18n import _

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
         "--no-pdf-header-footer")  # the page's own margin boxes, not Chromium's date and file name
TIMEOUT = 180


class NoBrowser(Exception):
    """No Chromium to print with."""


class PrintError(Exception):
    """Chromium ran but wrote no PDF."""


def find_chromium() -> str | None:
    """The Chromium to print with: GAPCTL_CHROMIUM, else the first of BROWSERS on the PATH."""
    chosen = os.environ.get("GAPCTL_CHROMIUM", "").strip()
    if chosen:
        return shutil.which(chosen)
    return next((found for name in BROWSERS if (found := shutil.which(name))), None)


def print_pdf(page: str) -> bytes:
    """The PDF of one self-contained HTML page (its text, not a path or URL)."""
    browser = find_chromium()
    if browser is None:
        raise NoBrowser(_("--format pdf prints the HTML report with Chromium, and none was found; install it "
                          "(Debian: apt-get install chromium) or set GAPCTL_CHROMIUM to its path"))
    with tempfile.TemporaryDirectory(prefix="gapctl-pdf-") as tmp:
        source, target = Path(tmp) / "report.html", Path(tmp) / "report.pdf"
        source.write_text(page, encoding="utf-8")
        command = [browser, *FLAGS, f"--user-data-dir={Path(tmp) / 'profile'}", f"--print-to-pdf={target}",
                   source.as_uri()]
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT,
                                  stdin=subprocess.DEVNULL, env={**os.environ, "HOME": tmp})
        except subprocess.TimeoutExpired:
            raise PrintError(_("Chromium did not finish printing the report in {seconds} seconds").format(
                seconds=TIMEOUT)) from None
        except OSError as err:
            raise PrintError(_("could not start Chromium ({browser}): {error}").format(
                browser=browser, error=err.strerror or err)) from None
        if not target.is_file() or target.stat().st_size == 0:
            last = (done.stderr.strip().splitlines() or [""])[-1][:300]
            raise PrintError(_("Chromium wrote no PDF (exit status {status}): {message}").format(
                status=done.returncode, message=last))
        return target.read_bytes()
