"""The library's entry points, shared by the CLI and by tests."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gapctl.collector import paused_gc
from gapctl.data.model import Round
from gapctl.data.sources import display_path, read_file
from gapctl.i18n import _
from gapctl.problems import UNREADABLE, Location, Problem, Report
from gapctl.scoring.load import Loaded, build_round, build_scheme, build_unit_set, load, round_file
from gapctl.scoring.validate import validate


@dataclass
class CheckResult:
    loaded: Loaded
    report: Report
    files: int


def check(path: Path | str) -> CheckResult:
    """Load a round or repository and validate it."""
    loaded = load(path)
    with paused_gc():
        report = validate(loaded)
    return CheckResult(loaded, report, loaded.files_read)


def targets(paths: list[Path]) -> list[Path]:
    """What to validate for each path given: its round, or its repository (for pre-commit's file lists)."""
    from gapctl.scoring.load import find_repository_root

    out: list[Path] = []
    for path in paths or [Path(".")]:
        start = path if path.is_dir() else path.parent
        round_dir = next((d for d in [start, *start.parents] if round_file(d)), None)
        if round_dir is not None:
            target = round_dir
        elif path.is_dir() or not path.exists():
            target = path
        else:
            target = find_repository_root(start) or path
        if target not in out:
            out.append(target)
    return _outermost(out)


def _outermost(paths: list[Path]) -> list[Path]:
    """Leave out a target inside another one that is validated whole (a round in its repository),
    so that pre-commit's list of a round file and a scheme file reads that round once, not twice."""
    resolved = [p.resolve() for p in paths]
    return [p for p, r in zip(paths, resolved, strict=True)
            if not any(other != r and other in r.parents for other in resolved)]


def check_many(paths: list[Path], use_cache: bool = True, progress: Any = None) -> CheckResult:
    """Validate several rounds or repositories; one report, each problem once.

    File by file (see gapctl.scoring.outcomes): on every core for large rounds, and from the
    cache for files that did not change unless `use_cache` is False.
    """
    from gapctl.scoring import outcomes
    results = [outcomes.check(target, use_cache, progress) for target in targets(paths)]
    report = Report([p for r in results for p in r.report.problems])
    return CheckResult(results[0].loaded, report, sum(r.files for r in results))


def score(round_: Round, final: bool = False):
    """Score a loaded round: a RoundScore with one UnitScore per unit (see gapctl.scoring.score)."""
    from gapctl.scoring.score import score_round

    with paused_gc():
        return score_round(round_, final=final)


def load_round(path: Path | str) -> Round:
    """Load and validate one round; its problems are on `round.problems`.

    Raises ValueError when the path is not a readable round at all.
    """
    loaded = load(path)
    if loaded.round is None:
        messages = "; ".join(p.message for p in loaded.problems) or _("not a round directory")
        raise ValueError(f"{path}: {messages}")
    report = validate(loaded)
    loaded.round.problems = report.sorted()
    return loaded.round


def read_one(path: Path | str) -> tuple[str, Any, list[Problem]]:
    """Read one scheme, unit set or round for `show`: (kind, object or None, problems)."""
    path = Path(path)
    if path.is_dir() and round_file(path):
        loaded = load(path)
        problems = validate(loaded).sorted() if loaded.round else loaded.problems
        return "round", loaded.round, problems
    if not path.is_file():
        return "", None, [Problem(UNREADABLE, _("no such scheme, unit set or round"),
                                  location=Location(display_path(path)))]
    parsed = read_file(path)
    problems = list(parsed.problems)
    if parsed.data is None:
        return "", None, problems
    if path.name.startswith("round."):
        obj = build_round(parsed.src, parsed.data, path.parent, problems)
        return "round", obj, problems
    if path.parent.name == "units" or (isinstance(parsed.data, dict) and "units" in parsed.data
                                       and "indicators" not in parsed.data):
        return "units", build_unit_set(parsed.src, parsed.data, problems), problems
    scheme = build_scheme(parsed.src, parsed.data, problems)
    if scheme is not None:
        from gapctl.scoring.validate import check_scheme
        problems.extend(check_scheme(scheme))
    return "scheme", scheme, problems
