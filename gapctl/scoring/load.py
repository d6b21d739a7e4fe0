"""Files → model. Finds a repository's files, reads them, checks their shape, builds objects.

Shape problems (unknown keys, wrong types, missing keys) are found here, as the data is
read; cross-references and arithmetic are `validate`'s job.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from gapctl.collector import paused_gc
from gapctl.data import schema as S
from gapctl.data.assumptions import collect
from gapctl.data.model import (
    Appeal,
    Category,
    Component,
    Condition,
    Conversion,
    Deduction,
    Evidence,
    ExternalData,
    ExternalRef,
    ExternalSource,
    Flag,
    Gate,
    Grade,
    Group,
    Indicator,
    Measure,
    Observations,
    Panel,
    Ranking,
    Redistribution,
    Repository,
    Result,
    Round,
    Rule,
    Sample,
    Scheme,
    SchemeAssignment,
    Scoring,
    Section,
    Selector,
    Unit,
    UnitSet,
    Veto,
)
from gapctl.data.schema import Reader
from gapctl.data.sources import DATA_SUFFIXES, SourceFile, display_path, over_limit, read_file
from gapctl.data.tree import DiskTree
from gapctl.i18n import N_, _
from gapctl.problems import (
    BAD_FORMULA,
    BAD_VALUE,
    DUPLICATE_ID,
    ID_MISMATCH,
    MISSING_KEY,
    UNKNOWN_REFERENCE,
    UNKNOWN_RULE_KIND,
    UNREADABLE,
    Location,
    Problem,
)
from gapctl.scheme.rules import REGISTRY

ROUND_FILES = ("round.toml", "round.yaml", "round.yml")
RULE_COMMON: S.Shape = {
    "kind": S.F("text", required=True, doc=N_("rule kind")),
    "when": S.F("map", doc="selector: the variant applies to these units"),
}
TIER: S.Shape = {"at_least": S.F("int", required=True), "points": S.F("points"),
                 "deduct": S.F("points")}
RULE_ITEM: S.Shape = {"id": S.F("id", required=True), "name": S.F("text"),
                      "name_en": S.F("text"), "points": S.F("points", required=True),
                      "applies_to": S.F("map", doc="selector: the item counts only for these units")}


@dataclass
class Loaded:
    """What loading gave: the repository (and the round asked for) and every problem met.

    `tree` is where files come from (disk or a git revision); `memo`, when given, is shared
    between loads so that a file with the same content is parsed and built once. With
    `observations=False` observation files are listed (`Round.observation_paths`) but not
    read: `gapctl.scoring.outcomes` reads them, in parallel or from the cache.
    """

    repository: Repository
    round: Round | None = None
    problems: list[Problem] = field(default_factory=list)
    files_read: int = 0
    tree: Any = field(default_factory=DiskTree)
    memo: dict[tuple[str, str], tuple[Any, list[Problem]]] | None = None
    observations: bool = True
    cache: Any = None  # a gapctl.data.cache.Cache for schemes and unit sets read from disk

    def build(self, path: Path, kind: str, builder: Any, share: bool = True) -> Any:
        """Read one file and build its object with `builder(src, data, problems)`; None if unreadable.

        `share=False` for objects that loading later changes (rounds): never taken from the memo.
        """
        self.files_read += 1
        if isinstance(self.tree, DiskTree) and over_limit(path):  # refused without reading it all
            parsed = read_file(path)
            self.problems.extend(parsed.problems)
            return None
        try:
            data = self.tree.read_bytes(path)
        except OSError as err:
            self.problems.append(unreadable_problem(path, _("cannot read file: {reason}").format(
                reason=err.strerror or err)))
            return None
        key = (self.tree.blob(path, data), kind) if self.memo is not None and share else None
        if key is not None and key in self.memo:
            obj, problems = self.memo[key]
            self.problems.extend(problems)
            return obj
        cache_key = None
        if self.cache is not None and share and kind in ("scheme", "units"):
            from gapctl.data import cache as C
            cache_key = file_cache_key(path, kind, data)
            payload = self.cache.get(cache_key)
            try:  # an entry this code cannot read (gapctl.codec) is read from the file instead
                obj, problems = C.loads(payload) if payload is not None else (None, None)
            except (ValueError, TypeError):
                problems = None
            if problems is not None:
                if key is not None:  # the other side of a diff takes this very object, not a second copy
                    self.memo[key] = (obj, problems)
                self.problems.extend(problems)
                return obj
        parsed = read_file(path, data, keep_text=not isinstance(self.tree, DiskTree))
        problems = list(parsed.problems)
        obj = builder(parsed.src, parsed.data, problems) if parsed.data is not None else None
        if key is not None:
            self.memo[key] = (obj, problems)
        if cache_key is not None:
            from gapctl.data import cache as C
            self.cache.put(cache_key, C.dumps((obj, problems)))
        self.problems.extend(problems)
        return obj


# --- finding files --------------------------------------------------------------------

DISK = DiskTree()


def find_repository_root(start: Path, tree: Any = DISK) -> Path | None:
    """The nearest directory at or above `start` that has schemes/, units/ or rounds/."""
    for candidate in [start, *start.parents]:
        if any(tree.is_dir(candidate / name) for name in ("schemes", "units", "rounds")):
            return candidate
    if tree is DISK and not start.is_absolute():  # `cd rounds && gapctl score r1`: the root is `..`
        for candidate in start.absolute().parents:
            if any(tree.is_dir(candidate / name) for name in ("schemes", "units", "rounds")):
                return Path(os.path.relpath(candidate))
    return None


def round_file(directory: Path, tree: Any = DISK) -> Path | None:
    for name in ROUND_FILES:
        if tree.is_file(directory / name):
            return directory / name
    return None


def data_files(directory: Path, tree: Any = DISK) -> list[Path]:
    return [p for p in tree.files(directory)
            if p.suffix.lower() in DATA_SUFFIXES and not p.name.startswith(".")]


def file_cache_key(path: Path, kind: str, data: bytes) -> str:
    """The cache entry `Loaded.build` keeps a scheme or unit set (`kind`) built from `data` under."""
    from gapctl.data import cache as C
    from gapctl.i18n import lang
    return C.key_of("file", kind, str(path), display_path(path), C.content_hash(data), lang())


def unreadable_problem(path: Path, message: str) -> Problem:
    return Problem(UNREADABLE, message, location=Location(display_path(path)))


# --- public entry points --------------------------------------------------------------

def load(path: Path | str, tree: Any = None,
         memo: dict[tuple[str, str], tuple[Any, list[Problem]]] | None = None,
         observations: bool = True, cache: Any = None) -> Loaded:
    """Load a round directory (with what it references) or a whole repository.

    `tree` reads another source of files (a git revision); `memo` shares parsed files
    between loads; `observations=False` lists observation files without reading them;
    `cache` keeps schemes and unit sets as built (see gapctl.scoring.outcomes).
    """
    with paused_gc():
        return _load(Path(path), tree or DISK, memo, observations, cache)


def _load(path: Path, tree: Any, memo: Any, observations: bool = True, cache: Any = None) -> Loaded:
    def fresh(at: Path) -> Loaded:
        return Loaded(Repository(at), tree=tree, memo=memo, observations=observations, cache=cache)

    if not tree.exists(path):
        loaded = fresh(path)
        loaded.problems.append(unreadable_problem(
            path, _("no such file or directory ({revision})").format(revision=tree.label)
            if tree is not DISK else _("no such file or directory")))
        return loaded
    if tree.is_file(path):
        path = path.parent if path.name in ROUND_FILES else path
    if tree.is_dir(path) and round_file(path, tree):
        loaded = fresh(path)
        return load_round_dir(path, loaded)
    root = find_repository_root(path, tree) if tree.is_dir(path) else None
    if root is None or root != path.resolve() and root != path:
        loaded = fresh(path)
        loaded.problems.append(unreadable_problem(
            path, _("not a round (no round.toml) nor a repository (no schemes/, units/ or rounds/ directory)")))
        return loaded
    return load_repository(root, fresh(root))


def load_repository(root: Path, loaded: Loaded | None = None) -> Loaded:
    """Every scheme, unit set and round of a repository."""
    loaded = loaded or Loaded(Repository(root))
    tree = loaded.tree
    for path in data_files(root / "schemes", tree):
        _add_scheme(loaded, path)
    for path in data_files(root / "units", tree):
        _add_unit_set(loaded, path)
    for directory in tree.dirs(root / "rounds"):
        if round_file(directory, tree) and not directory.name.startswith("."):  # .x: a staging copy
            round_ = _read_round(loaded, directory)
            if round_:
                _resolve_round(loaded, round_, load_missing=False)
    return loaded


def load_round_dir(directory: Path, loaded: Loaded | None = None) -> Loaded:
    """One round and only the schemes and unit set it references."""
    tree = loaded.tree if loaded else DISK
    root = find_repository_root(directory.parent, tree) or directory.parent
    loaded = Loaded(Repository(root), tree=tree, memo=loaded.memo if loaded else None,
                    observations=loaded.observations if loaded else True,
                    cache=loaded.cache if loaded else None)
    round_ = _read_round(loaded, directory)
    if round_ is not None:
        loaded.round = round_
        _resolve_round(loaded, round_, load_missing=True)
    return loaded


def _find_by_id(directory: Path, ident: str, tree: Any) -> Path | None:
    for suffix in DATA_SUFFIXES:
        candidate = directory / f"{ident}{suffix}"
        if tree.is_file(candidate):
            return candidate
    return None


def _resolve_round(loaded: Loaded, round_: Round, load_missing: bool) -> None:
    repo, tree = loaded.repository, loaded.tree
    round_.tree = tree
    for assignment in round_.assignments:
        path = _find_by_id(repo.root / "schemes", assignment.scheme, tree)
        if assignment.scheme not in repo.schemes and load_missing and path:
            _add_scheme(loaded, path)
        scheme = repo.schemes.get(assignment.scheme)
        if scheme is None and path is None:  # a file that exists reported its own problems
            loaded.problems.append(Problem(
                UNKNOWN_REFERENCE, _("round uses scheme '{scheme}', but there is no schemes/{scheme}.yaml").format(
                    scheme=assignment.scheme), assignment.src, assignment.at + ("scheme",)))
        elif scheme is not None:
            round_.schemes[scheme.id] = scheme
    wanted = [g.scheme for s in list(round_.schemes.values()) for g in s.groups if g.scheme]
    while wanted:  # the schemes that score channels (and check subordinates), and theirs in turn
        scheme_id = wanted.pop()
        if scheme_id in round_.schemes:
            continue
        path = _find_by_id(repo.root / "schemes", scheme_id, tree)
        if scheme_id not in repo.schemes and load_missing and path:
            _add_scheme(loaded, path)
        scheme = repo.schemes.get(scheme_id)
        if scheme is not None:
            round_.schemes[scheme.id] = scheme
            wanted += [g.scheme for g in scheme.groups if g.scheme]
    path = _find_by_id(repo.root / "units", round_.units_id, tree)
    if round_.units_id not in repo.unit_sets and load_missing and path:
        _add_unit_set(loaded, path)
    round_.unit_set = repo.unit_sets.get(round_.units_id)
    if round_.unit_set is None and path is None:
        loaded.problems.append(Problem(
            UNKNOWN_REFERENCE, _("round uses unit set '{units}', but there is no units/{units}.yaml").format(
                units=round_.units_id), round_.src, ("units",)))
    for ref in round_.external_refs:
        if ref.file:
            data = loaded.build(round_.directory / ref.file, "external", _build_external)
            if data:
                round_.external[ref.id] = data
        elif ref.round and ref.round not in {p.name for p in tree.dirs(repo.root / "rounds")}:
            loaded.problems.append(Problem(
                UNKNOWN_REFERENCE, _("external source '{source}' names round '{round}', which does not "
                                     "exist").format(source=ref.id, round=ref.round), ref.src, ref.at + ("round",)))
    for path in data_files(round_.directory / "observations", tree):
        round_.observation_files.add(path.stem)
        if not loaded.observations:
            round_.observation_paths.append(path)
            continue
        obs = loaded.build(path, "observations", build_observations)
        if obs is None:
            continue
        round_.observation_files.add(obs.unit)
        if obs.unit in round_.observations:
            loaded.problems.append(second_file(obs.unit, obs.src, round_.observations[obs.unit].src))
            continue
        round_.observations[obs.unit] = obs
    for unit_dir in tree.dirs(round_.directory / "channels"):
        for path in data_files(unit_dir, tree):
            if not loaded.observations:
                round_.channel_paths.append(path)
                continue
            obs = loaded.build(path, "observations", build_observations)
            if obs is not None and obs.channel:
                round_.channels.setdefault(obs.unit, {})[obs.channel] = obs
    for path in data_files(round_.directory / "appeals", tree):
        appeals = loaded.build(path, "appeals", build_appeals)
        if appeals:
            round_.appeals.setdefault(appeals[0].unit, []).extend(appeals)


def second_file(unit_id: str, src: SourceFile, first: SourceFile | None) -> Problem:
    """Two observation files name the same unit: the second (in path order) is not read."""
    return Problem(DUPLICATE_ID, _("a second observation file for unit '{unit}' (the first is {first})").format(
        unit=unit_id, first=first.display if first else "?"), src, ("unit",))


# --- files → objects ------------------------------------------------------------------

def _check_id_matches_name(src: SourceFile, ident: str | None, expected: str, what: str,
                           problems: list[Problem], at: tuple[Any, ...] = ("id",)) -> None:
    """`what`: an English phrase marked N_() ("unit set id"), translated when there is a problem."""
    if ident is not None and ident != expected:
        problems.append(Problem(ID_MISMATCH, _("{what} '{id}' is in a file or directory named '{name}'; rename one "
                                               "so they agree").format(what=_(what), id=ident, name=expected),
                                src, at))


def _add_scheme(loaded: Loaded, path: Path) -> None:
    scheme = loaded.build(path, "scheme", build_scheme)
    if scheme is None:
        return
    if scheme.id in loaded.repository.schemes:
        loaded.problems.append(Problem(DUPLICATE_ID, _("scheme id '{id}' is used by two files").format(id=scheme.id),
                                       scheme.src, ("id",)))
        return
    loaded.repository.schemes[scheme.id] = scheme


def _add_unit_set(loaded: Loaded, path: Path) -> None:
    unit_set = loaded.build(path, "units", build_unit_set)
    if unit_set is None:
        return
    if unit_set.id in loaded.repository.unit_sets:
        loaded.problems.append(Problem(DUPLICATE_ID, _("unit set id '{id}' is used by two files").format(
            id=unit_set.id), unit_set.src, ("id",)))
        return
    loaded.repository.unit_sets[unit_set.id] = unit_set


def _read_round(loaded: Loaded, directory: Path) -> Round | None:
    path = round_file(directory, loaded.tree)
    assert path is not None
    round_ = loaded.build(path, "round", lambda src, data, problems: build_round(src, data, directory, problems),
                          share=False)
    if round_ is not None:
        loaded.repository.rounds[round_.id] = round_
    return round_


def _selector(reader: Reader, data: Any, at: tuple[Any, ...], what: str) -> Selector | None:
    values = reader.read(S.SELECTOR, data, at, what)
    if values is None:
        return None
    return Selector(tuple(values.get("unit_types") or ()), tuple(values.get("tags") or ()),
                    tuple(values.get("units") or ()), src=reader.src, at=at)


def _rule(reader: Reader, data: Any, at: tuple[Any, ...]) -> Rule | None:
    if not isinstance(data, dict):
        reader.read({}, data, at, N_("a rule"))
        return None
    kind_name = data.get("kind")
    kind = REGISTRY.get(kind_name) if isinstance(kind_name, str) else None
    if kind is None:
        if "kind" in data:
            import difflib
            close = difflib.get_close_matches(str(kind_name), list(REGISTRY), n=1)
            hint = _("; did you mean '{close}'?").format(close=close[0]) if close else \
                _("; known kinds: {kinds}").format(kinds=", ".join(REGISTRY))
            reader.problems.append(Problem(UNKNOWN_RULE_KIND, _("unknown rule kind '{kind}'{hint}").format(
                kind=kind_name, hint=hint), reader.src, at + ("kind",)))
        else:
            reader.read(RULE_COMMON, data, at, N_("a rule"))
        return None
    values = reader.read({**RULE_COMMON, **kind.params}, data, at, _("a {kind} rule").format(kind=kind.name))
    if values is None:
        return None
    params = {k: v for k, v in values.items() if k not in ("kind", "when", "assumed", "assumed_note")}
    for key, shape, what in (("tiers", TIER, N_("a rule's tier")), ("items", RULE_ITEM, N_("a rule's item")),
                             ("clauses", S.CLAUSE, N_("a rule's clause"))):
        if isinstance(params.get(key), list):
            checked = []
            for i, entry in enumerate(params[key]):
                entry_values = reader.read(shape, entry, at + (key, i), what)
                if entry_values is not None and all(
                        entry_values.get(k) is not None for k, f in shape.items() if f.required):
                    if entry_values.get("applies_to") is not None:
                        entry_values["applies_to"] = _selector(
                            reader, entry_values["applies_to"], at + (key, i, "applies_to"), "'applies_to'")
                    if entry_values.get("when") is not None:
                        entry_values["when"] = condition(reader, entry_values["when"], at + (key, i, "when"))
                    for amount in ("deduct", "earn"):
                        if isinstance(entry_values.get(amount), dict):
                            entry_values[amount] = {str(k): v for k, v in entry_values[amount].items()}
                    checked.append(entry_values)
            params[key] = checked
    when = _selector(reader, values["when"], at + ("when",), "'when'") if values.get("when") else None
    return Rule(kind.name, params, when, values.get("assumed") is True, values.get("assumed_note"),
                src=reader.src, at=at)


def _indicator(reader: Reader, data: Any, at: tuple[Any, ...], section: str,
               parent: str | None, depth: int, out: list[Indicator],
               pass_lines: list[Veto] | None = None, inherited: tuple[Selector, ...] = ()) -> None:
    values = reader.read(S.INDICATOR, data, at, N_("an indicator"))
    if values is None or not values.get("id") or values.get("name") is None:
        return
    ind = Indicator(
        id=values["id"], name=values["name"], points=values.get("points"),
        name_en=values.get("name_en"), methods=tuple(values.get("methods") or ()),
        checkpoints=values.get("checkpoints"), basis=values.get("basis"),
        scope=values.get("scope"), note=values.get("note"), section=section,
        cap=values.get("cap"), floor=values.get("floor"), moves_to=values.get("moves_to"),
        replaces=tuple(values.get("replaces") or ()),
        parent_id=parent, depth=depth, assumed=values.get("assumed") is True,
        assumed_note=values.get("assumed_note"), invalid=S.invalid_keys(data, values),
        inherited=inherited, src=reader.src, at=at)
    pass_lines = pass_lines if pass_lines is not None else []
    if values.get("applies_to") is not None:
        ind.applies_to = _selector(reader, values["applies_to"], at + ("applies_to",), "'applies_to'")
    ind.bounded = values.get("bounded")
    if values.get("gate") is not None:
        ind.gate = _gate(reader, values["gate"], at + ("gate",))
    if values.get("redistribute") is not None:
        ind.redistribute = _redistribution(reader, values["redistribute"], at + ("redistribute",))
    elif ind.moves_to:  # shorthand: all of its points to one indicator, earned points scaled
        ind.redistribute = Redistribution((ind.moves_to,), "points", "earn", src=reader.src, at=at + ("moves_to",))
    if values.get("pass_line") is not None:
        line = _pass_line(reader, values["pass_line"], at + ("pass_line",), ind)
        if line is not None:
            pass_lines.append(line)
    unreadable_rule = False
    if values.get("rule") is not None:
        rule = _rule(reader, values["rule"], at + ("rule",))
        if rule:
            ind.rules.append(rule)
        unreadable_rule = rule is None
    for i, variant in enumerate(values.get("rules") or []):
        rule = _rule(reader, variant, at + ("rules", i))
        if rule:
            ind.rules.append(rule)
        unreadable_rule = unreadable_rule or rule is None
    if unreadable_rule:
        ind.invalid = ind.invalid | {"rule"}
    below = inherited + ((ind.applies_to,) if ind.applies_to is not None else ())
    for i, child in enumerate(values.get("children") or []):
        _indicator(reader, child, at + ("children", i), section, ind.id, depth + 1, ind.children, pass_lines, below)
    out.append(ind)


def condition(reader: Reader, text: Any, at: tuple[Any, ...]) -> Condition:
    """A formula from a scheme (gapctl.scheme.formula); one that cannot be read is reported at its column."""
    from gapctl.scheme.formula import FormulaError, parse

    if not isinstance(text, str):
        text = reader.convert(S.F("text"), text, at, at[-1] if at else "formula", N_("a formula"))
        if text is None:
            return Condition("", None, src=reader.src, at=at)
    try:
        formula = parse(text)
    except FormulaError as err:
        reader.problems.append(Problem(BAD_FORMULA, _("cannot read the formula '{formula}': {problem}").format(
                                           formula=text, problem=err.message),
                                       reader.src, at, offset=err.offset))
        formula = None
    return Condition(text, formula, src=reader.src, at=at)


def _gate(reader: Reader, data: Any, at: tuple[Any, ...]) -> Gate | None:
    """`gate: base > 85`, or `gate: {when: base > 85, name: 基础得分85分以上方可加分}`."""
    if isinstance(data, dict):
        values = reader.read(S.GATE, data, at, N_("a gate"))
        if values is None or values.get("when") is None:
            return None
        return Gate(condition(reader, values["when"], at + ("when",)), values.get("name"), values.get("name_en"),
                    src=reader.src, at=at)
    return Gate(condition(reader, data, at), src=reader.src, at=at)


def _redistribution(reader: Reader, data: Any, at: tuple[Any, ...]) -> Redistribution | None:
    values = reader.read(S.REDISTRIBUTE, data, at, "'redistribute'")
    if values is None or values.get("to") is None:
        return None
    to = values["to"]
    if isinstance(to, str) and to in ("siblings", "all"):
        targets: tuple[str, ...] | str = to
    else:
        ids = reader.convert(S.F("list[id]"), to, at + ("to",), "to", "'redistribute'")
        if ids is None:
            return None
        targets = tuple(ids)
    return Redistribution(targets, values.get("by") or "points", values.get("mode") or "earn",
                          src=reader.src, at=at)


def _pass_line(reader: Reader, data: Any, at: tuple[Any, ...], ind: Indicator) -> Veto | None:
    """合格线 on a part: shorthand for a veto whose condition is the part below its line."""
    from gapctl.scheme.formula import built

    values = reader.read(S.PASS_LINE, data, at, N_("a pass line"))
    if values is None:
        return None
    given = [k for k in ("rate", "points") if values.get(k) is not None]
    if len(given) != 1:
        reader.problem(BAD_VALUE, _("a pass line needs one of 'rate' (a share of the part's points, 0…1) or "
                                    "'points'"), at)
        return None
    line = values[given[0]]
    function = "rate" if given[0] == "rate" else "score"
    ref = (("ref", ind.id, 0),)
    # below the line, when the part applies to the unit at all (a part that does not apply has no figure)
    tree = ("and", (("cmp", ("call", "points", ref, 0), ((">", ("num", Decimal(0), "0", 0)),)),
                    ("cmp", ("call", function, ref, 0), (("<", ("num", line, str(line), 0)),))))
    text = f"points({ind.id}) > 0 and {function}({ind.id}) < {line}"
    name = values.get("name") or f"{ind.name}低于合格线"
    return Veto(f"pass-line-{ind.id}", name, Condition(text, built(tree, text), src=reader.src, at=at),
                None, values.get("grade"), part=ind.id, line=(function, line), assumed=values.get("assumed") is True,
                assumed_note=values.get("assumed_note"), src=reader.src, at=at)


def _group(reader: Reader, v: dict[str, Any], at: tuple[Any, ...]) -> Group:
    select = _selector(reader, v["select"], at + ("select",), "'select'") if v.get("select") is not None else None
    weights: dict[str, Decimal] = {}
    for key, value in (v.get("weights") or {}).items():
        number = reader.convert(S.F("number"), value, at + ("weights", key), str(key), "weights")
        if number is not None:
            weights[str(key)] = number
    return Group(v["id"], v["name"], v["of"], v.get("name_en"), v.get("scheme"), select, tuple(v.get("types") or ()),
                 v.get("combine") or ("weighted" if weights else "mean"), weights, bool(v.get("by_type")),
                 bool(v.get("sample")), v.get("withheld") or "skip", src=reader.src, at=at)


def _bounds(reader: Reader, value: Any) -> str | int:
    if value is None:
        return "leaves"
    if value in ("leaves", "top"):
        return value
    if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
        return value
    reader.problem(BAD_VALUE, _("'bounds' must be leaves, top or a level number (1 = top), not {value}").format(
                       value=repr(value)),
                   ("scoring", "bounds"))
    return "leaves"


def _section(reader: Reader, data: Any, at: tuple[Any, ...], section: str,
             pass_lines: list[Veto]) -> Section | None:
    values = reader.read(S.SECTION, data, at, N_("the bonus section") if section == "bonus" else
                         N_("the penalty section"))
    if values is None:
        return None
    items: list[Indicator] = []
    for i, entry in enumerate(values.get("indicators") or []):
        _indicator(reader, entry, at + ("indicators", i), section, None, 1, items, pass_lines)
    default = "加分项" if section == "bonus" else "减分项"
    gate = _gate(reader, values["gate"], at + ("gate",)) if values.get("gate") is not None else None
    return Section(values.get("name") or default, items, values.get("cap"), values.get("name_en"), gate,
                   src=reader.src, at=at)


def _objects(reader: Reader, entries: list[Any] | None, key: str, shape: S.Shape, what: str,
             build: Any, prefix: tuple[Any, ...] = ()) -> list[Any]:
    """Read a list of mappings of one shape, building an object from each valid one."""
    out = []
    for i, entry in enumerate(entries or []):
        at = prefix + (key, i)
        values = reader.read(shape, entry, at, what)
        if values is not None and all(values.get(k) is not None
                                      for k, f in shape.items() if f.required):
            out.append(build(values, at))
    return out


def build_scheme(src: SourceFile, data: Any, problems: list[Problem]) -> Scheme | None:
    reader = Reader(src, problems)
    values = reader.read(S.SCHEME, data, (), N_("a scheme"))
    if values is None or not values.get("id") or values.get("title") is None:
        return None
    _check_id_matches_name(src, values["id"], src.stem, N_("scheme id"), problems)
    indicators: list[Indicator] = []
    pass_lines: list[Veto] = []
    for i, entry in enumerate(values.get("indicators") or []):
        _indicator(reader, entry, ("indicators", i), "main", None, 1, indicators, pass_lines)
    scheme = Scheme(values["id"], values["title"], indicators, src=src, at=())
    for key in ("title_en", "place", "year", "source", "total_points", "note"):
        if values.get(key) is not None:
            setattr(scheme, key, values[key])
    scheme.language = values.get("language") or "zh-CN"
    scheme.late_evidence = values.get("late_evidence") or "warn"
    scoring = reader.read(S.SCORING, values.get("scoring") or {}, ("scoring",), "'scoring'") \
        if values.get("scoring") is not None else {}
    if scoring is not None:
        scheme.scoring = Scoring(
            normalise=scoring.get("normalise") or "none",
            scale=scoring.get("scale") if scoring.get("scale") is not None else Decimal(100),
            places=scoring.get("places") if scoring.get("places") is not None else 1,
            round_at=tuple(scoring.get("round") or ("base", "total")),
            bounds=_bounds(reader, scoring.get("bounds")),
            base=condition(reader, scoring["base"], ("scoring", "base")) if scoring.get("base") else None,
            total=condition(reader, scoring["total"], ("scoring", "total")) if scoring.get("total") else None,
            max_total=scoring.get("max_total"), weights=scoring.get("weights") or "share",
            assumed=scoring.get("assumed") is True, assumed_note=scoring.get("assumed_note"),
            src=src, at=("scoring",))
    tags = values.get("tags") or {}
    scheme.tags = {str(k): str(v) for k, v in tags.items()}
    scheme.measures = _objects(reader, values.get("measures"), "measures", S.MEASURE, N_("a measure"),
                               lambda v, at: Measure(v["id"], v["name"], v.get("name_en"),
                                                     v.get("higher_is_better", True) is not False,
                                                     src=src, at=at))
    if values.get("bonus") is not None:
        scheme.bonus = _section(reader, values["bonus"], ("bonus",), "bonus", pass_lines)
    if values.get("penalty") is not None:
        scheme.penalty = _section(reader, values["penalty"], ("penalty",), "penalty", pass_lines)
    scheme.vetoes = _objects(reader, values.get("vetoes"), "vetoes", S.VETO, N_("a veto"),
                             lambda v, at: Veto(v["id"], v["name"], condition(reader, v["when"], at + ("when",)),
                                                v.get("name_en"), v.get("grade"), v.get("total"),
                                                tuple(v.get("zero") or ()), tuple(v.get("cancel") or ()),
                                                bool(v.get("stop")), assumed=v.get("assumed") is True,
                                                assumed_note=v.get("assumed_note"), src=src, at=at)) + pass_lines
    scheme.external = _objects(reader, values.get("external"), "external", S.EXTERNAL,
                               N_("an external source"),
                               lambda v, at: ExternalSource(v["id"], v["name"], v.get("mode") or "subtract",
                                                            v.get("name_en"), src=src, at=at))
    scheme.components = _objects(reader, values.get("components"), "components", S.COMPONENT,
                                 N_("a component"),
                                 lambda v, at: Component(v["id"], v["name"], v["weight"], v["source"],
                                                         v.get("name_en"), src=src, at=at))
    scheme.grades = _objects(reader, values.get("grades"), "grades", S.GRADE, N_("a grade band"),
                             lambda v, at: Grade(v["label"], v["min"], v.get("label_en"),
                                                 v.get("assumed") is True, src=src, at=at))
    scheme.flags = _objects(reader, values.get("flags"), "flags", S.FLAG, N_("a flag"),
                            lambda v, at: Flag(v["id"], v["label"], v["below"], v.get("of") or "total",
                                               v.get("label_en"), src=src, at=at))
    if values.get("ranking") in ("published", "none"):  # shorthand: no categories
        scheme.ranking = Ranking(published=values["ranking"] == "published", src=src, at=("ranking",))
    elif isinstance(values.get("ranking"), str):
        reader.problem(BAD_VALUE, _("'ranking' must be published, none, or a mapping {{of, categories, published}}, "
                                    "not '{value}'").format(value=values["ranking"]), ("ranking",))
    elif values.get("ranking") is not None:
        ranking = reader.read(S.RANKING, values["ranking"], ("ranking",), "'ranking'")
        if ranking is not None:
            categories = _objects(
                reader, ranking.get("categories"), "categories", S.CATEGORY, N_("a ranking category"),
                lambda v, at: Category(v["id"], v["name"], Selector(
                    tuple(v.get("unit_types") or ()), tuple(v.get("tags") or ()),
                    tuple(v.get("units") or ()), src=src, at=("ranking",) + at),
                    v.get("name_en"), src=src, at=("ranking",) + at))
            scheme.ranking = Ranking(ranking.get("of") or "total", categories, ranking.get("published") is not False,
                                     src=src, at=("ranking",))
    scheme.groups = _objects(reader, values.get("groups"), "groups", S.GROUP, N_("a group"),
                             lambda v, at: _group(reader, v, at))
    if values.get("assessors") is not None:
        panel = reader.read(S.PANEL, values["assessors"], ("assessors",), "'assessors'")
        if panel is not None:
            scheme.panel = Panel(panel.get("combine") or "mean", panel.get("tolerance"),
                                 panel.get("at_least") if panel.get("at_least") is not None else 2,
                                 src=src, at=("assessors",))
    if values.get("conversion") is not None:
        conv = reader.read(S.CONVERSION, values["conversion"], ("conversion",), "'conversion'")
        if conv is not None:
            scheme.conversion = Conversion(conv.get("points"), conv.get("passdown_multiplier"),
                                           conv.get("label"), conv.get("label_en"),
                                           src=src, at=("conversion",))
    scheme.assumptions = collect("scheme", data, reader.assumed, src)
    return scheme


def build_unit_set(src: SourceFile, data: Any, problems: list[Problem]) -> UnitSet | None:
    reader = Reader(src, problems)
    values = reader.read(S.UNIT_SET, data, (), N_("a unit set"))
    if values is None or not values.get("id") or values.get("name") is None:
        return None
    _check_id_matches_name(src, values["id"], src.stem, N_("unit set id"), problems)
    units = _objects(reader, values.get("units"), "units", S.UNIT, N_("a unit"),
                     lambda v, at: Unit(v["id"], v["name"], v["type"], v.get("name_en"),
                                        v.get("parent"), tuple(v.get("tags") or ()), v.get("note"),
                                        src=src, at=at))
    return UnitSet(values["id"], values["name"], units, values.get("name_en"),
                   tuple(values.get("types") or ()), values.get("note"), collect("units", data, reader.assumed, src),
                   src=src, at=())


def build_round(src: SourceFile, data: Any, directory: Path, problems: list[Problem]) -> Round | None:
    reader = Reader(src, problems)
    values = reader.read(S.ROUND, data, (), N_("a round"))
    if values is None or not values.get("id") or values.get("title") is None \
            or not values.get("units"):
        return None
    named = directory.name if directory.name not in ("", "..") else Path(os.path.abspath(directory)).name  # `.`
    _check_id_matches_name(src, values["id"], named, N_("round id"), problems)
    assignments = _objects(reader, values.get("schemes"), "schemes", S.SCHEME_ASSIGNMENT,
                           N_("a scheme assignment"),
                           lambda v, at: SchemeAssignment(v["scheme"], tuple(v.get("unit_types") or ()),
                                                          tuple(v.get("units") or ()), src=src, at=at))
    round_ = Round(values["id"], values["title"], values["units"], assignments, directory,
                   values.get("title_en"), bool(values.get("example")), note=values.get("note"),
                   src=src, at=())
    if values.get("period") is not None:
        period = reader.read(S.PERIOD, values["period"], ("period",), "'period'")
        if period and period.get("start") and period.get("end"):
            round_.period = (period["start"], period["end"])
    if values.get("stages") is not None:
        stages = reader.read(S.STAGES, values["stages"], ("stages",), "'stages'") or {}
        round_.stages = {k: v for k, v in stages.items() if k not in S.ASSUMPTION_KEYS}
    round_.samples = _objects(reader, values.get("samples"), "samples", S.SAMPLE, N_("a sample"),
                              lambda v, at: Sample(v.get("group"), v.get("unit"), tuple(v.get("drawn") or ()),
                                                   v.get("of"), v.get("seed"), v.get("minutes"),
                                                   tuple(v.get("indicators") or ()), src=src, at=at))
    round_.periods = tuple(values.get("periods") or ())
    for ext_id, ref in (values.get("external") or {}).items():
        ref_values = reader.read(S.EXTERNAL_REF, ref, ("external", ext_id),
                                 _("external source '{source}'").format(source=ext_id))
        if ref_values is not None:
            round_.external_refs.append(ExternalRef(ext_id, ref_values.get("file"),
                                                    ref_values.get("round"), src=src,
                                                    at=("external", ext_id)))
    round_.assumptions = collect("round", data, reader.assumed, src)
    return round_


def build_observations(src: SourceFile, data: Any, problems: list[Problem]) -> Observations | None:
    reader = Reader(src, problems)
    values = reader.read(S.OBSERVATIONS, data, (), N_("an observation file"))
    if values is None or not values.get("unit"):
        return None
    if values.get("channel") is not None or src.path.parent.parent.name == "channels":
        _check_id_matches_name(src, values.get("channel"), src.stem, N_("channel"), problems, at=("channel",))
        _check_id_matches_name(src, values["unit"], src.path.parent.name, N_("unit"), problems, at=("unit",))
        if values.get("channel") is None:
            problems.append(Problem(MISSING_KEY, _("a channel's file has no 'channel' (its id, the file name)"),
                                    src, (), on="key"))
    else:
        _check_id_matches_name(src, values["unit"], src.stem, N_("unit"), problems, at=("unit",))
    measures: dict[str, Decimal] = {}
    for key, value in (values.get("measures") or {}).items():
        number = reader.convert(S.F("number"), value, ("measures", key), key, "measures")
        if number is not None:
            measures[key] = number
    obs = Observations(values["unit"], [], values.get("observer"), values.get("observed_at"),
                       measures, values.get("note"), {str(k): v for k, v in (values.get("facts") or {}).items()},
                       values.get("channel"), values.get("name"), values.get("type"), src=src, at=())
    for i, entry in enumerate(values.get("results") or []):
        result = result_of(reader, obs, entry, i)
        if result is not None:
            obs.results.append(result)
    return obs


def result_of(reader: Reader, obs: Observations, entry: Any, i: int) -> Result | None:
    """Entry `i` of an observation file's results, built as `build_observations` builds it (its problems told
    to `reader`); None when it has no indicator (or is no mapping)."""
    at = ("results", i)
    v = reader.read(S.RESULT, entry, at, N_("an observation entry"))
    if v is None or not v.get("indicator"):
        return None
    evidence = _evidence_list(reader, v.get("evidence"), at)
    return Result(
        v["indicator"], v.get("result"), v.get("items"), v.get("count"), v.get("fraction"),
        v.get("grade"), v.get("notices"), v.get("note"), v.get("reason"), v.get("fix"),
        evidence, v.get("observer") or obs.observer, v.get("observed_at") or obs.observed_at,
        v.get("source") or "evaluator", S.invalid_keys(entry, v), _findings(v.get("findings")),
        src=reader.src, at=at)


def _findings(data: Any) -> dict[str, Any] | None:
    """Findings keyed by text (YAML may read a key such as 1 as a number)."""
    return {str(k): v for k, v in data.items()} if isinstance(data, dict) else None


def _evidence_list(reader: Reader, entries: Any, at: tuple[Any, ...]) -> list[Evidence]:
    if not entries:
        return []
    return _objects(reader, entries, "evidence", S.EVIDENCE, N_("an evidence entry"),
                    lambda e, ev_at: Evidence(e.get("url"), e.get("file"), e.get("sha256"), e.get("captured"),
                                              e.get("title"), e.get("submitted"), src=reader.src, at=ev_at),
                    prefix=at)


def build_appeals(src: SourceFile, data: Any, problems: list[Problem]) -> list[Appeal] | None:
    """An appeals file: a unit's appeals against observations, each with its decision once made."""
    reader = Reader(src, problems)
    values = reader.read(S.APPEALS_FILE, data, (), N_("an appeals file"))
    if values is None or not values.get("unit"):
        return None
    unit = values["unit"]
    _check_id_matches_name(src, unit, src.stem, N_("unit"), problems, at=("unit",))
    out = []
    for i, entry in enumerate(values.get("appeals") or []):
        at = ("appeals", i)
        v = reader.read(S.APPEAL, entry, at, N_("an appeal"))
        if v is None or not v.get("indicator") or not v.get("filed"):
            continue
        appeal = Appeal(unit, v["indicator"], v["filed"], v.get("argument"),
                        _evidence_list(reader, v.get("evidence"), at), src=src, at=at)
        if v.get("decision") is not None:
            d = reader.read(S.DECISION, v["decision"], at + ("decision",), N_("an appeal decision"))
            if d is not None:
                appeal.outcome, appeal.reviewer = d.get("outcome"), d.get("reviewer")
                appeal.decided, appeal.note = d.get("decided"), d.get("note")
                if d.get("result") is not None and appeal.outcome in ("upheld", "partly-upheld"):
                    r_at = at + ("decision", "result")
                    r = reader.read({k: f for k, f in S.RESULT.items()
                                     if k in Result.VALUE_FIELDS + ("result", "findings")},
                                    d["result"], r_at, N_("a decision's result"))
                    if r is not None:
                        appeal.result = Result(
                            appeal.indicator, r.get("result"), r.get("items"), r.get("count"), r.get("fraction"),
                            r.get("grade"), r.get("notices"), appeal.note, None, None, appeal.evidence,
                            appeal.reviewer, appeal.decided or appeal.filed, "appeal", S.invalid_keys(d["result"], r),
                            _findings(r.get("findings")), src=src, at=r_at)
        out.append(appeal)
    return out


def _build_external(src: SourceFile, data: Any, problems: list[Problem]) -> ExternalData | None:
    reader = Reader(src, problems)
    values = reader.read(S.EXTERNAL_FILE, data, (), N_("an external deductions file"))
    if values is None or values.get("name") is None:
        return None
    deductions = _objects(reader, values.get("deductions"), "deductions", S.DEDUCTION, N_("a deduction"),
                          lambda v, at: Deduction(v["unit"], v["points"], v.get("reason"),
                                                  src=src, at=at))
    return ExternalData(values["name"], deductions, collect("external", data, reader.assumed, src), src=src, at=())
