"""Make the screenshots in docs/ again: `./dev screenshots` (which installs what this needs).

- docs/report-overview.png: the overview of the Shanwei 2020 example report in Chinese, as a
  browser shows index.html (headless Chromium, 1100×1500);
- docs/report-pdf-page1.png: the first page of the same report issued as PDF
  (`gapctl report --format pdf` with an office, date and document number), rasterised at 100 dpi
  by pdftoppm (Debian's poppler-utils; headless Chromium cannot show a PDF).

Both run the commands a user runs, with Debian's chromium and fonts-wqy-microhei, so the
pictures show what an office gets. The office and number are placeholders (某某市): the round's
data is illustrative.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
ROUND = "rounds/shanwei-2020"
ISSUE = ["--office", "某某市政务公开办公室", "--date", "2021-11-05", "--number", "某政公〔2021〕5号"]
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--hide-scrollbars"]


def gapctl(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "gapctl", *args], cwd=ROOT, check=True)


def need(program: str, package: str) -> str:
    found = shutil.which(program)
    if found is None:
        sys.exit(f"docs/screenshots.py needs {program} (Debian: apt-get install {package}); "
                 "./dev screenshots installs it")
    return found


def main() -> None:
    chromium = need("chromium", "chromium fonts-wqy-microhei")
    pdftoppm = need("pdftoppm", "poppler-utils")
    with tempfile.TemporaryDirectory(prefix="gapctl-screenshots-") as tmp:
        work = Path(tmp)
        gapctl("report", ROUND, "--out", str(work / "html"), *ISSUE)
        overview = DOCS / "report-overview.png"
        subprocess.run([chromium, *CHROMIUM_FLAGS, f"--user-data-dir={work / 'profile'}", "--window-size=1100,1500",
                        f"--screenshot={overview}", (work / "html" / "index.html").as_uri()],
                       check=True, capture_output=True, timeout=120)
        pdf = work / "report.pdf"
        gapctl("report", ROUND, "--format", "pdf", "--out", str(pdf), *ISSUE)
        page = DOCS / "report-pdf-page1"
        subprocess.run([pdftoppm, "-png", "-r", "100", "-f", "1", "-l", "1", "-singlefile", str(pdf), str(page)],
                       check=True, timeout=120)
    for picture in (overview, page.with_suffix(".png")):
        print(f"wrote {picture.relative_to(ROOT)} ({picture.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
