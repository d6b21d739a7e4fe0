"""The docs site builds, strict, and a broken link fails it; the README's own links resolve.

`./dev docs` runs the same build (mkdocs.yml: `strict: true` and `validation:` turn a link to a page
that does not exist, or to an anchor a page does not have, into a failed build).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT

REPO = "https://github.com/gapctl/gapctl/blob/main/"  # mkdocs.yml's repo_url: pages link to files outside docs/
LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)|!\[[^\]]*\]\(([^)\s]+)\)")


def _build(config: Path, site: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    return subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(config), "-d", str(site)],
                          capture_output=True, text=True, encoding="utf-8", env=env, timeout=300)


def test_the_site_builds_strict(tmp_path: Path) -> None:
    result = _build(ROOT / "mkdocs.yml", tmp_path / "site")
    assert result.returncode == 0, result.stderr
    assert "WARNING" not in result.stderr, result.stderr
    for page in ("index.html", "en/index.html", "commands/score/index.html", "en/data-format/index.html",
                 "problems/index.html", "en/rules/index.html"):
        assert (tmp_path / "site" / page).is_file(), page
    assert 'lang="zh"' in (tmp_path / "site" / "index.html").read_text(encoding="utf-8")
    assert 'lang="en"' in (tmp_path / "site" / "en" / "index.html").read_text(encoding="utf-8")


def test_a_broken_link_or_anchor_fails_the_build(tmp_path: Path) -> None:
    """The site's own configuration (inherited whole, with a two-page tree) refuses a page that links to
    a missing page or to a heading that is not there."""
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "index.md").write_text("# 首页\n\n见[数据格式](data-format.md#单位)和[流程](process.md)。\n",
                                   encoding="utf-8")
    (docs / "index.en.md").write_text("# Home\n\nSee [the format](data-format.md#units).\n", encoding="utf-8")
    (docs / "data-format.md").write_text("# 数据格式\n\n## 评估对象\n", encoding="utf-8")
    config = tmp_path / "mkdocs.yml"
    config.write_text(f"INHERIT: {(ROOT / 'mkdocs.yml').as_posix()}\ndocs_dir: docs\n"
                      "nav:\n  - index.md\n  - data-format.md\n", encoding="utf-8")
    result = _build(config, tmp_path / "site")
    assert result.returncode != 0
    assert "contains a link 'process.md', but the target is not found" in result.stderr, result.stderr
    assert "does not contain an anchor '#单位'" in result.stderr, result.stderr
    assert "does not contain an anchor '#units'" in result.stderr, result.stderr
    (docs / "index.md").write_text("# 首页\n\n见[数据格式](data-format.md#评估对象)。\n", encoding="utf-8")
    (docs / "index.en.md").write_text("# Home\n\nSee [the format](data-format.md#评估对象).\n", encoding="utf-8")
    assert _build(config, tmp_path / "site").returncode == 0  # the same tree, mended, builds


def _github_slug(heading: str) -> str:
    """The anchor GitHub gives a README heading."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def test_readme_links_resolve() -> None:
    """README.md is read on the repository's page, not on the site: its relative links name files that
    exist, and its `#anchors` headings it has."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    prose = re.sub(r"```.*?```", "", readme, flags=re.S)
    anchors = {_github_slug(h) for h in re.findall(r"^#{1,6} (.+)$", prose, re.M)}
    links = [a or b for a, b in LINK.findall(prose)]
    assert len(links) >= 10, links
    for link in links:
        if re.match(r"[a-z]+:", link):
            continue
        target, _, anchor = link.partition("#")
        if not target:
            assert anchor in anchors, f"README links to #{anchor}, a heading it does not have"
        else:
            assert (ROOT / target).exists(), f"README links to {target}, which does not exist"


def test_links_to_repository_files_resolve() -> None:
    """Pages link to files outside docs/ (benchmarks/README.md, fuzz/README.md) through the repository's
    address, which MkDocs cannot check; here each such link names a file that exists."""
    seen = 0
    for page in [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]:
        for a, b in LINK.findall(page.read_text(encoding="utf-8")):
            link = a or b
            if link.startswith(REPO):
                seen += 1
                path = link[len(REPO):].partition("#")[0]
                assert (ROOT / path).exists(), f"{page.relative_to(ROOT)} links to {path}, which does not exist"
    assert seen, "no page links to a repository file"
