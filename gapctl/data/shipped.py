"""What gapctl carries with it: the example schemes, their unit sets and the CI templates.

They live at the top of gapctl's repository (schemes/, units/, rounds/*/round.toml,
.github/workflows/, .pre-commit-hooks.yaml), where they are the repository's own example data.
A wheel only holds what is under gapctl/, so the build (setup.py, `build_py`) copies them into
`gapctl/_shipped/` with the same relative paths; every reader goes through this module, which
finds them with importlib.resources. Where there is no `_shipped/` (a source checkout, an
editable install) the checkout itself is read: same layout, nothing to keep in step.

Contract: names come back sorted, so listings are deterministic; a missing file or directory
gives an empty answer, never an exception, and `origin()` says where gapctl looked so that a
broken install can be named in one line. This module reads files and nothing else: parsing
them is for the callers (gapctl.io.scaffold).
"""

from __future__ import annotations

import tomllib
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path

PACKAGED = "_shipped"  # the directory under gapctl/ that setup.py's build_py fills
CHECKOUT = Path(__file__).resolve().parents[2]  # a source checkout's root, when gapctl runs from one


def origin() -> Traversable:
    """The directory laid out like gapctl's repository: the packaged copy if this gapctl was
    installed from a wheel or an sdist, else the source checkout (recognised by its
    pyproject.toml, so an installed gapctl never reads whatever lies beside site-packages/gapctl)."""
    packaged = files("gapctl") / PACKAGED
    if not packaged.is_dir() and (CHECKOUT / "pyproject.toml").is_file():
        return CHECKOUT
    return packaged


def _listing(directory: str, suffix: str) -> dict[str, Traversable]:
    folder = origin()
    for part in directory.split("/"):
        folder = folder / part
    if not folder.is_dir():
        return {}
    found = {entry.name.removesuffix(suffix): entry for entry in folder.iterdir()
             if entry.name.endswith(suffix) and not entry.name.startswith(".") and entry.is_file()}
    return dict(sorted(found.items()))


def schemes() -> dict[str, Traversable]:
    """Shipped schemes by id (the file's stem, which `gapctl validate` requires to equal its id)."""
    return _listing("schemes", ".yaml")


def unit_sets() -> dict[str, Traversable]:
    """Shipped unit sets by id."""
    return _listing("units", ".yaml")


def workflows() -> dict[str, Traversable]:
    """CI workflow templates by file name: the `gapctl*.yml` of .github/workflows/ (the others, such
    as dependency-drift.yml, are gapctl's own CI, not templates for an assessment repository)."""
    return {f"{name}.yml": entry for name, entry in _listing(".github/workflows", ".yml").items()
            if name.startswith("gapctl")}


def pre_commit_hooks() -> str | None:
    """The text of gapctl's `.pre-commit-hooks.yaml` (the hooks offered to other repositories)."""
    entry = origin() / ".pre-commit-hooks.yaml"
    return entry.read_text(encoding="utf-8") if entry.is_file() else None


def example_unit_sets() -> dict[str, list[str]]:
    """Scheme id → the unit sets the shipped example rounds assess with it, read from their
    round.toml (`units = …` beside `[[schemes]] scheme = …`)."""
    found: dict[str, set[str]] = {}
    for scheme_id, units_id, _ in _assignments():
        found.setdefault(scheme_id, set()).add(units_id)
    return {scheme_id: sorted(sets) for scheme_id, sets in sorted(found.items())}


def example_unit_types(scheme_id: str) -> list[str]:
    """The unit types the example rounds assign `scheme_id` to (`[[schemes]] unit_types`), sorted;
    empty when they assess every unit with it."""
    return sorted({t for assigned, _, types in _assignments() if assigned == scheme_id for t in types})


def _assignments() -> list[tuple[str, str, tuple[str, ...]]]:
    """(scheme, unit set, unit types) for every `[[schemes]]` of every shipped round.toml. A round
    that does not parse is skipped: `gapctl validate` is where it gets reported."""
    rounds = origin() / "rounds"
    out = []
    for directory in sorted(rounds.iterdir(), key=lambda d: d.name) if rounds.is_dir() else ():
        round_toml = directory / "round.toml"
        if directory.name.startswith(".") or not round_toml.is_file():
            continue
        try:
            data = tomllib.loads(round_toml.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError):
            continue
        units, assignments = data.get("units"), data.get("schemes")
        if not isinstance(units, str) or not isinstance(assignments, list):
            continue
        for assignment in assignments:
            if isinstance(assignment, dict) and isinstance(assignment.get("scheme"), str):
                types = assignment.get("unit_types")
                types = tuple(t for t in types if isinstance(t, str)) if isinstance(types, list) else ()
                out.append((assignment["scheme"], units, types))
    return out
