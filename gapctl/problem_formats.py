"""One set of problems, rendered for every consumer: text, JSON, GitHub annotations, SARIF.

Who calls it: `gapctl validate` (the CLI picks the format and prints what `render` returns;
other commands print problem lines through `text_line`). Nothing here loads or checks data:
it receives problems already found, as `Findings`.

What it guarantees, for every format:

- the same problems in the same order, `Report.sorted()`'s (path, line, column, code), each once;
- every problem names its file, line and column (1-based; columns count Unicode code points)
  unless it has no file (path `-`), in which case no location is given rather than a false one;
- user text cannot break out of its context: terminal text through `gapctl.escape.plain`
  (one line, controls shown); GitHub workflow commands escape `%`, CR and LF in the message
  and also `:` and `,` in properties, so a message can neither end the command nor start
  another; JSON and SARIF are JSON (bidi characters as `\\u` escapes, values unchanged);
- deterministic output: no timestamps, no absolute paths that the input did not give.

Formats:

- `text`: `path:line:col: CODE message` lines, a blank line, then the summary.
- `json`: `{path, ok, errors, warnings, files, problems: [{path, line, col, code, name,
  severity, message}]}`.
- `github`: one `::error file=P,line=L,col=C,title=CODE::message` (or `::warning`) per problem,
  then the summary as a plain log line. GitHub shows them as annotations on the pull request.
- `sarif`: SARIF 2.1.0 (one run; the whole problem catalogue as `tool.driver.rules`), for
  GitHub code scanning and other SARIF viewers.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import quote

from gapctl.escape import plain
from gapctl.problems import CATALOGUE, ERROR, Problem

FORMATS = ("text", "json", "github", "sarif")
SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
NO_FILE = "-"


@dataclass(frozen=True)
class Findings:
    """What a run found: its problems (sorted, each once), how many files it read, over which paths."""

    problems: list[Problem]
    files: int
    paths: str
    failed: bool

    @property
    def errors(self) -> int:
        return sum(1 for p in self.problems if p.severity == ERROR)

    @property
    def warnings(self) -> int:
        return len(self.problems) - self.errors

    def summary(self) -> str:
        from gapctl.i18n import _

        text = _("{errors} error(s), {warnings} warning(s) in {files} file(s).").format(
            errors=self.errors, warnings=self.warnings, files=self.files)
        return (_("Failed: ") if self.failed else _("OK: ")) + text


def rows(problems: list[Problem]) -> list[dict[str, Any]]:
    """Each problem as a flat record: path, line, col, code, name, severity, message."""
    out = []
    for p in problems:
        loc = p.locate()
        out.append({"path": loc.path, "line": loc.line, "col": loc.col, "code": p.code, "name": p.kind.name,
                    "severity": p.severity, "message": p.message})
    return out


def text_line(row: dict[str, Any]) -> str:
    """`path:line:col: CODE message`, one line whatever the message quotes: a quoted value cannot
    start a new line that a CI log would read as a command."""
    return f"{plain(row['path'])}:{row['line']}:{row['col']}: {row['code']} {plain(row['message'])}"


# --- GitHub workflow commands ---------------------------------------------------------------

def _escape_data(text: str) -> str:
    """The escaping of @actions/core's `escapeData`: a message cannot end its command line."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    """`escapeProperty`: as `_escape_data`, and `:` and `,`, which end a property."""
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def github_line(row: dict[str, Any]) -> str:
    command = "error" if row["severity"] == ERROR else "warning"
    props = []
    if row["path"] != NO_FILE:
        props += [f"file={_escape_property(plain(row['path']))}", f"line={row['line']}", f"col={row['col']}"]
    props.append(f"title={_escape_property(row['code'])}")
    return f"::{command} {','.join(props)}::{_escape_data(plain(row['message']))}"


# --- SARIF 2.1.0 ----------------------------------------------------------------------------

def _uri(path: str) -> tuple[str, bool]:
    """A path as a SARIF artifact URI, and whether it is relative to the checkout (%SRCROOT%)."""
    posix = PurePosixPath(path.replace("\\", "/"))
    if posix.is_absolute():
        return "file://" + quote(str(posix)), False
    return quote(str(posix)), True


def sarif_data(findings: Findings, version: str, provenance: Any = None) -> dict[str, Any]:
    """The SARIF log: one run of gapctl, its whole catalogue as rules, one result per problem; titles,
    descriptions and messages in the current language, codes as they are; `provenance` (the commit,
    the files used and their hashes) in the run's property bag."""
    from gapctl.i18n import lang

    kinds = sorted(CATALOGUE.values(), key=lambda k: k.code)
    index = {k.code: n for n, k in enumerate(kinds)}
    rules = [{"id": k.code, "name": k.name, "shortDescription": {"text": k.title_in(lang())},
              "fullDescription": {"text": k.description_in(lang())},
              "defaultConfiguration": {"level": "error" if k.severity == ERROR else "warning"},
              "properties": {"stage": k.stage}} for k in kinds]
    results = []
    for p, row in zip(findings.problems, rows(findings.problems), strict=True):
        result: dict[str, Any] = {"ruleId": p.code, "ruleIndex": index[p.code],
                                  "level": "error" if p.severity == ERROR else "warning",
                                  "message": {"text": p.message}}
        if row["path"] != NO_FILE:
            uri, relative = _uri(row["path"])
            artifact: dict[str, Any] = {"uri": uri}
            if relative:
                artifact["uriBaseId"] = "%SRCROOT%"
            result["locations"] = [{"physicalLocation": {
                "artifactLocation": artifact,
                "region": {"startLine": row["line"], "startColumn": row["col"]}}}]
        results.append(result)
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "gapctl", "version": version, "semanticVersion": version,
                                "rules": rules}},
            "columnKind": "unicodeCodePoints",
            "results": results,
            **({"properties": {"provenance": provenance.data()}} if provenance is not None else {}),
        }],
    }


# --- one entry point ------------------------------------------------------------------------

def _json(data: Any, provenance: Any = None) -> str:
    from gapctl.escape import json_document
    return json_document(data, provenance)


def render(findings: Findings, fmt: str, provenance: Any = None) -> str:
    """The whole output of `gapctl validate` in `fmt` (one of FORMATS), ending in a newline; the json
    and sarif formats carry `provenance` (gapctl.review.provenance) when given."""
    table = rows(findings.problems)
    if fmt == "json":
        return _json({"path": findings.paths, "ok": not findings.failed, "errors": findings.errors,
                      "warnings": findings.warnings, "files": findings.files, "problems": table}, provenance)
    if fmt == "sarif":
        from gapctl import __version__
        return _json(sarif_data(findings, __version__, provenance))
    if fmt == "github":
        return "".join(github_line(row) + "\n" for row in table) + findings.summary() + "\n"
    if fmt == "text":
        lines = [text_line(row) for row in table] + ([""] if table else []) + [findings.summary()]
        return "\n".join(lines) + "\n"
    raise ValueError(f"unknown format {fmt!r}; formats are {', '.join(FORMATS)}")
