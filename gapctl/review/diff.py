"""Compare two scored rounds: the same round at two git revisions, or two rounds.

Units are matched by id, indicators by id or by the newer scheme's `replaces:`. For each
unit: old and new total, delta, grade and rank changes, and the indicator-level changes
that explain the delta; for revisions, the commit and author behind each change.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from gapctl.data.model import Indicator, Scheme
from gapctl.data.tree import DiskTree, GitError, GitTree, git, toplevel
from gapctl.figures import ZERO
from gapctl.i18n import _
from gapctl.problems import Problem
from gapctl.scoring.load import Loaded, load
from gapctl.scoring.score import LeafScore, RoundScore, UnitScore, score_round


@dataclass
class Attribution:
    """Who changed something: a commit (empty for the working tree), its author, date, subject."""

    commit: str
    author: str
    date: str
    subject: str

    @property
    def short(self) -> str:
        return self.commit[:7] if self.commit else "uncommitted"


@dataclass
class IndicatorChange:
    indicator: str
    name: str
    section: str
    old_points: Decimal | None
    new_points: Decimal | None
    old_earned: Decimal | None
    new_earned: Decimal | None
    old_observation: str | None
    new_observation: str | None
    note: str | None = None  # added / removed / replaces …
    by: Attribution | None = None

    @property
    def delta(self) -> Decimal:
        return (self.new_earned or ZERO) - (self.old_earned or ZERO)


@dataclass
class MemberChange:
    """A channel, subordinate unit or period whose total moved, and so moved the unit built from it."""

    group: str  # the group's name
    member: str
    name: str
    old_total: Decimal | None
    new_total: Decimal | None
    indicators: list[IndicatorChange] = field(default_factory=list)  # a channel's own changes
    by: Attribution | None = None
    src: Any = None  # a channel's file, for attribution

    @property
    def delta(self) -> Decimal:
        return (self.new_total or ZERO) - (self.old_total or ZERO)


@dataclass(slots=True)  # one per unit of both rounds (30,000 in a large diff): no __dict__ each
class UnitChange:
    unit: str
    name: str
    status: str  # changed / same / added / removed
    old: UnitScore | None
    new: UnitScore | None
    indicators: list[IndicatorChange] = field(default_factory=list)
    members: list[MemberChange] = field(default_factory=list)  # what moved below it

    @property
    def delta(self) -> Decimal:
        return ((self.new.total or ZERO) if self.new else ZERO) - ((self.old.total or ZERO) if self.old else ZERO)

    @property
    def grade_changed(self) -> bool:
        return bool(self.old and self.new and self.old.grade != self.new.grade)

    @property
    def rank_changed(self) -> bool:
        return bool(self.old and self.new and (rank(self.old) != rank(self.new)
                                               or category_rank(self.old) != category_rank(self.new)))


def rank(score: Any) -> int | None:
    """A unit's rank as its scheme publishes it: None where the scheme publishes no ranking."""
    return score.rank if score is not None and score.scheme.publishes_ranking else None


def category_rank(score: Any) -> int | None:
    return score.category_rank if score is not None and score.scheme.publishes_ranking else None


@dataclass
class RoundDiff:
    path: str
    old_label: str
    new_label: str
    old: RoundScore
    new: RoundScore
    units: list[UnitChange]
    scheme_notes: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    gates: list[str] = field(default_factory=list)
    observations: dict[str, Any] | None = None  # the newer side's files of changed units, when not on `new.round`

    def changed(self) -> list[UnitChange]:
        return [u for u in self.units if u.status != "same"]


# --- comparing scored rounds -----------------------------------------------------------

def _observation(leaf: LeafScore | None) -> str | None:
    if leaf is None:
        return None
    from gapctl.scoring.explain import observation_text
    return observation_text(leaf, "zh", with_who=False)


def _old_ids(ind: Indicator) -> list[str]:
    return [ind.id, *ind.replaces]


def match_indicators(new_scheme: Scheme, old_scheme: Scheme) -> dict[str, str]:
    """New leaf id → old leaf id, by id or by `replaces:`."""
    old_leaves = {i.id for i in old_scheme.leaves()}
    mapping = {}
    for ind in new_scheme.leaves():
        for candidate in _old_ids(ind):
            if candidate in old_leaves:
                mapping[ind.id] = candidate
                break
    return mapping


def scheme_notes(old_scheme: Scheme, new_scheme: Scheme) -> list[str]:
    """What differs between two schemes, so readers know what is comparable."""
    notes = []
    if old_scheme.id != new_scheme.id:
        notes.append(f"scheme {old_scheme.id} → {new_scheme.id}")
    mapping = match_indicators(new_scheme, old_scheme)
    old_index = {i.id: i for i in old_scheme.leaves()}
    for ind in new_scheme.leaves():
        old_id = mapping.get(ind.id)
        if old_id is None:
            notes.append(f"indicator {ind.id} {ind.name} is new (not comparable)")
            continue
        old = old_index[old_id]
        if old_id != ind.id:
            notes.append(f"indicator {ind.id} {ind.name} replaces {old_id} {old.name}")
        if old.points != ind.points:
            notes.append(f"indicator {ind.id} {ind.name}: points {_n(old.points)} → {_n(ind.points)}")
        old_kinds = [r.kind for r in old.rules]
        new_kinds = [r.kind for r in ind.rules]
        if old_kinds != new_kinds:
            notes.append(f"indicator {ind.id} {ind.name}: rule {'/'.join(old_kinds)} → {'/'.join(new_kinds)}")
    matched = set(mapping.values())
    for old in old_scheme.leaves():
        if old.id not in matched:
            notes.append(f"indicator {old.id} {old.name} was removed (not comparable)")
    return notes


def _n(value: Decimal | None) -> str:
    from gapctl.scheme.rules import num
    return "-" if value is None else num(value)


def _indicator_changes(old: UnitScore, new: UnitScore) -> list[IndicatorChange]:
    mapping = match_indicators(new.scheme, old.scheme)
    changes = []
    for leaf_id, leaf in new.leaves.items():
        old_id = mapping.get(leaf_id)
        old_leaf = old.leaves.get(old_id) if old_id else None
        if old_leaf is None:
            if leaf.state != "not-applicable" and (leaf.points or leaf.earned):
                changes.append(IndicatorChange(leaf_id, leaf.indicator.name, leaf.indicator.section, None,
                                               leaf.points, None, leaf.earned, None, _observation(leaf),
                                               note="new indicator"))
            continue
        old_obs, new_obs = _observation(old_leaf), _observation(leaf)
        if (old_leaf.points, old_leaf.earned, old_obs, old_leaf.state) == (leaf.points, leaf.earned, new_obs,
                                                                          leaf.state):
            continue
        note = f"replaces {old_id}" if old_id != leaf_id else None
        changes.append(IndicatorChange(leaf_id, leaf.indicator.name, leaf.indicator.section, old_leaf.points,
                                       leaf.points, old_leaf.earned, leaf.earned, old_obs, new_obs, note))
    matched = set(mapping.values())
    for old_id, old_leaf in old.leaves.items():
        if old_id not in matched and old_leaf.state != "not-applicable" and (old_leaf.points or old_leaf.earned):
            changes.append(IndicatorChange(old_id, old_leaf.indicator.name, old_leaf.indicator.section,
                                           old_leaf.points, None, old_leaf.earned, None, _observation(old_leaf),
                                           None, note="removed indicator"))
    return changes


def compare(old: RoundScore, new: RoundScore, path: str, old_label: str, new_label: str,
            changes: dict[str, list[IndicatorChange]] | None = None,
            channels: tuple[Any, Any] | None = None) -> RoundDiff:
    """The two rounds compared unit by unit. When their units are summaries (gapctl.review.diff_units):
    `changes`, each unit's indicator changes found elsewhere (none when missing), and `channels`,
    where the two sides' channel scores are looked up (detailed on demand)."""
    old_units, new_units = old.by_unit(), new.by_unit()
    units: list[UnitChange] = []
    pairs: set[tuple[str, str]] = set()
    for unit_id in sorted(set(old_units) | set(new_units)):
        o, n = old_units.get(unit_id), new_units.get(unit_id)
        if o is None and n is not None:
            units.append(UnitChange(unit_id, n.unit.name, "added", None, n))
            continue
        if n is None and o is not None:
            units.append(UnitChange(unit_id, o.unit.name, "removed", o, None))
            continue
        assert o is not None and n is not None
        pairs.add((o.scheme.id, n.scheme.id))
        found = changes.get(unit_id) or _NONE if changes is not None else _indicator_changes(o, n)
        change = UnitChange(unit_id, n.unit.name, "same", o, n, found,
                            _member_changes(old, new, o, n, channels) or _NONE)
        if change.indicators or change.members or o.total != n.total or change.grade_changed or change.rank_changed:
            change.status = "changed"
        units.append(change)
    notes: list[str] = []
    schemes_old = {s.scheme.id: s.scheme for s in old.units}
    schemes_new = {s.scheme.id: s.scheme for s in new.units}
    for old_id, new_id in sorted(pairs):
        notes.extend(scheme_notes(schemes_old[old_id], schemes_new[new_id]))
    order = {u.unit.id: n for n, u in enumerate(new.units)}
    order.update({u.unit.id: len(order) + n for n, u in enumerate(old.units) if u.unit.id not in order})
    units.sort(key=lambda u: (-abs(u.delta), order.get(u.unit, 0), u.unit))
    return RoundDiff(path, old_label, new_label, old, new, units, notes)


_NONE: list[Any] = []  # the changes of a unit with none: one list for them all, never added to


def _member_changes(old: RoundScore, new: RoundScore, o: UnitScore, n: UnitScore,
                    channels: tuple[Any, Any] | None = None) -> list[MemberChange]:
    """Members of the unit's groups whose totals moved (or came or went), with a channel's own
    indicator changes: what a parent's change comes from."""
    out: list[MemberChange] = []
    old_lookup, new_lookup = channels or (old.channels, new.channels)
    old_channels: dict[str, UnitScore] | None = None
    new_channels: dict[str, UnitScore] = {}
    for group_id, found in n.groups.items():
        before = {m.id: m for m in o.groups[group_id].members} if group_id in o.groups else {}
        after = {m.id: m for m in found.members}
        for member_id in sorted(set(before) | set(after)):
            b, a = before.get(member_id), after.get(member_id)
            if b is not None and a is not None and b.total == a.total:
                continue
            change = MemberChange(found.group.name, member_id, (a or b).name,  # type: ignore[union-attr]
                                  b.total if b else None, a.total if a else None)
            if found.group.of == "channels" and old_channels is None:  # looked up once a channel moved
                old_channels = {c.unit.id: c for c in old_lookup.get(o.unit.id, [])}
                new_channels = {c.unit.id: c for c in new_lookup.get(n.unit.id, [])}
            if found.group.of == "channels" and member_id in (old_channels or {}) and member_id in new_channels:
                assert old_channels is not None
                change.indicators = _indicator_changes(old_channels[member_id], new_channels[member_id])
                change.src = new_channels[member_id].source
            out.append(change)
    return out


# --- gates ----------------------------------------------------------------------------

@dataclass
class Gates:
    """Direction-aware checks for CI: each tripped gate makes `diff` exit 1."""

    total_drops_more_than: Decimal | None = None
    total_rises_more_than: Decimal | None = None
    grade_change: bool = False
    rank_change: bool = False
    any_change: bool = False

    def check(self, diff: RoundDiff) -> list[str]:
        tripped = []
        for u in diff.units:
            if u.old is None or u.new is None:
                continue
            if self.total_drops_more_than is not None and -u.delta > self.total_drops_more_than:
                tripped.append(_("{name} ({unit}): total dropped {by} (more than {limit})").format(
                    name=u.name, unit=u.unit, by=_n(-u.delta), limit=_n(self.total_drops_more_than)))
            if self.total_rises_more_than is not None and u.delta > self.total_rises_more_than:
                tripped.append(_("{name} ({unit}): total rose {by} (more than {limit})").format(
                    name=u.name, unit=u.unit, by=_n(u.delta), limit=_n(self.total_rises_more_than)))
            if self.grade_change and u.grade_changed:
                tripped.append(_("{name} ({unit}): grade {old} → {new}").format(
                    name=u.name, unit=u.unit, old=u.old.grade, new=u.new.grade))
            if self.rank_change and u.rank_changed:
                tripped.append(_("{name} ({unit}): rank {old} → {new}").format(
                    name=u.name, unit=u.unit, old=rank(u.old), new=rank(u.new)))
        if self.any_change and diff.changed():
            tripped.append(_("{count} unit(s) changed").format(count=len(diff.changed())))
        return tripped

    def check_repository(self, diff: RepositoryDiff) -> list[str]:
        """Each round's tripped gates (also kept on the round), prefixed with its path."""
        tripped = []
        for entry in diff.rounds:
            if entry.diff is not None:
                entry.diff.gates = entry.gates = self.check(entry.diff)
            elif self.any_change and entry.status in ("added", "removed"):
                entry.gates = [_("round added") if entry.status == "added" else _("round removed")]
            tripped += [f"{entry.path}: {gate}" for gate in entry.gates]
        return tripped


# --- loading the two sides ------------------------------------------------------------

def _scored(loaded: Loaded, check: bool = True) -> RoundScore:
    """Score one side; `check` also validates it (the newer side: the older was checked when it landed)."""
    from gapctl.collector import paused_gc
    from gapctl.scoring.validate import validate

    round_ = loaded.round
    if round_ is None:
        raise ValueError("; ".join(p.message for p in loaded.problems) or "not a round")
    with paused_gc():
        errors = validate(loaded).errors if check else [p for p in loaded.problems if p.severity == "error"]
        result = score_round(round_)
    result.problems = errors
    return result


def _file_by_file(old_directory: Path, new_directory: Path, shown: str, old_tree: Any, new_tree: Any,
                  old_label: str | None = None, new_label: str | None = None,
                  memo: dict[Any, Any] | None = None) -> RoundDiff | None:
    """The diff through gapctl.review.diff_units (summaries, details where a unit can differ), or None when
    a side cannot take that path (errors, not a round): the whole-round path decides those. `memo`: the
    schemes and unit sets already built (`load`'s memo), shared by both sides."""
    from gapctl.review import diff_units
    old, new = diff_units.sides(old_directory, old_tree, new_directory, new_tree, memo)
    if old is None or new is None:
        return None
    diff = compare(old.scored, new.scored, shown, old_label or old.scored.round.id, new_label or new.scored.round.id,
                   diff_units.indicator_changes(old, new), (diff_units.Channels(old), diff_units.Channels(new)))
    diff.observations = diff_units.observations_of(new, [u.unit for u in diff.changed() if u.indicators])
    return diff


def diff_rounds(old_path: Path, new_path: Path) -> RoundDiff:
    """Two rounds on disk (e.g. 2020 against 2021)."""
    found = _file_by_file(Path(old_path), Path(new_path), f"{old_path} → {new_path}", None, None)
    if found is not None:
        return found
    memo: dict[Any, Any] = {}
    old = _scored(load(old_path, memo=memo), check=False)
    new = _scored(load(new_path, memo=memo))
    diff = compare(old, new, f"{old_path} → {new_path}", old.round.id, new.round.id)
    diff.problems = old.problems + new.problems
    return diff


def _trees(root: Path, revs: str) -> tuple[GitTree, Any]:
    """The two sides of `BASE..HEAD` (BASE alone: against the working tree)."""
    from gapctl.review.blobs import CheckedOutTree  # a file the same as on disk is read from disk

    base_rev, _, head_rev = revs.partition("..")
    base_tree = CheckedOutTree(root, base_rev or "HEAD")
    try:
        head_tree: Any = CheckedOutTree(root, head_rev) if head_rev else DiskTree()
    except GitError:
        base_tree.close()
        raise
    return base_tree, head_tree


def _close(base_tree: GitTree, head_tree: Any) -> None:
    base_tree.close()
    if isinstance(head_tree, GitTree):
        head_tree.close()


def _diff_round(directory: Path, shown: str, base_tree: GitTree, head_tree: Any, memo: dict[Any, Any]) -> RoundDiff:
    found = _file_by_file(directory, directory, shown, base_tree, head_tree, base_tree.label, head_tree.label, memo)
    if found is not None:
        return found
    old = _scored(load(directory, tree=base_tree, memo=memo), check=False)
    new = _scored(load(directory, tree=head_tree, memo=memo))
    diff = compare(old, new, shown, base_tree.label, head_tree.label)
    diff.problems = old.problems + new.problems
    return diff


def diff_revisions(round_path: Path, revs: str) -> RoundDiff:
    """The same round at two revisions (`BASE..HEAD`), or a revision against the working tree (`BASE`)."""
    root = toplevel(round_path)
    base_tree, head_tree = _trees(root, revs)
    try:
        diff = _diff_round(round_path.resolve(), str(round_path), base_tree, head_tree, {})
    finally:
        _close(base_tree, head_tree)
    attribute(diff, root, base_tree, head_tree)
    return diff


# --- a whole repository: every round under rounds/ -------------------------------------

@dataclass
class RoundEntry:
    """One round of a repository diff: changed or same (with its diff), added or removed (with the
    side that exists, scored), or unreadable (why)."""

    path: str
    status: str  # changed / same / added / removed / unreadable
    diff: RoundDiff | None = None
    scored: RoundScore | None = None
    error: str | None = None
    gates: list[str] = field(default_factory=list)


@dataclass
class RepositoryDiff:
    path: str
    old_label: str
    new_label: str
    rounds: list[RoundEntry]
    problems: list[Problem] = field(default_factory=list)
    gates: list[str] = field(default_factory=list)


def is_repository(path: Path) -> bool:
    """Whether `path` names a repository rather than a round: no round.toml, and schemes/, units/
    or rounds/ in it (or it is the top of the git work tree, a repository that has none yet)."""
    from gapctl.scoring.load import round_file
    if not path.is_dir() or round_file(path):
        return False
    if any((path / name).is_dir() for name in ("schemes", "units", "rounds")):
        return True
    try:
        return toplevel(path) == path.resolve()
    except GitError:
        return False


def _one_side(directory: Path, tree: Any, memo: dict[Any, Any], check: bool) -> RoundScore:
    """A round on one side only, its totals file by file (whole when it has errors, as `_scored`)."""
    from gapctl.review import diff_units
    found = diff_units.side(directory, tree)
    if found is not None:
        return found.scored
    return _scored(load(directory, tree=tree, memo=memo), check=check)


def _round_names(repo: Path, tree: Any) -> set[str]:
    from gapctl.scoring.load import round_file
    return {d.name for d in tree.dirs(repo / "rounds") if round_file(d, tree) and not d.name.startswith(".")}


def diff_repository(repo_path: Path, revs: str) -> RepositoryDiff:
    """Every round under `rounds/` at BASE against HEAD (or the working tree): rounds on both sides
    are compared as `diff_revisions` does; a round on one side only is new or removed."""
    root = toplevel(repo_path)
    repo = repo_path.resolve()
    base_tree, head_tree = _trees(root, revs)
    memo: dict[Any, Any] = {}
    entries: list[RoundEntry] = []
    try:
        before, after = _round_names(repo, base_tree), _round_names(repo, head_tree)
        for name in sorted(before | after):
            directory = repo / "rounds" / name
            shown = (repo_path / "rounds" / name).as_posix()
            shown = shown[2:] if shown.startswith("./") else shown
            try:
                if name in before and name in after:
                    diff = _diff_round(directory, shown, base_tree, head_tree, memo)
                    entries.append(RoundEntry(shown, "changed" if diff.changed() or diff.scheme_notes else "same",
                                              diff=diff))
                elif name in after:
                    entries.append(RoundEntry(shown, "added", scored=_one_side(directory, head_tree, memo, True)))
                else:
                    entries.append(RoundEntry(shown, "removed", scored=_one_side(directory, base_tree, memo, False)))
            except ValueError as err:
                entries.append(RoundEntry(shown, "unreadable", error=str(err)))
    finally:
        _close(base_tree, head_tree)
    for entry in entries:
        if entry.diff is not None and entry.status == "changed":
            attribute(entry.diff, root, base_tree, head_tree)
    problems = [p for e in entries for p in (e.diff.problems if e.diff else e.scored.problems if e.scored else [])]
    return RepositoryDiff(str(repo_path), base_tree.label, head_tree.label, entries, problems)


# --- who changed what -----------------------------------------------------------------

def _log_one(root: Path, base: str, head: str | None, rel: str) -> Attribution | None:
    rng = f"{base}..{head}" if head else base + "..HEAD"
    out = git(["log", "-1", "--format=%H%x1f%an%x1f%ad%x1f%s", "--date=short", rng, "--", rel], root)
    text = out.decode("utf-8", "replace").strip()
    if not text:
        return None
    commit, author, date, subject = text.split("\x1f", 3)
    return Attribution(commit, author, date, subject)


def _blame(root: Path, head: str | None, rel: str, start: int, end: int,
           in_range: list[str]) -> Attribution | None:
    """The newest commit of base..head among lines start..end (the working tree when head is None)."""
    args = ["blame", "--porcelain", "-L", f"{start},{end}"] + ([head] if head else []) + ["--", rel]
    try:
        out = git(args, root).decode("utf-8", "replace")
    except GitError:
        return None
    commits: dict[str, dict[str, str]] = {}
    current = None
    for line in out.splitlines():
        parts = line.split(" ")
        if len(parts[0]) == 40 and all(c in "0123456789abcdef" for c in parts[0]):
            current = parts[0]
            commits.setdefault(current, {})
        elif current and " " in line and not line.startswith("\t"):
            key, _, value = line.partition(" ")
            commits[current].setdefault(key, value)
    if not commits:
        return None
    newest = {sha: n for n, sha in enumerate(in_range)}  # rev-list order: newest first

    def age(sha: str) -> tuple[int, int]:
        if set(sha) == {"0"}:
            return (-1, 0)
        return (newest.get(sha, len(newest)), -int(commits[sha].get("author-time", "0")))
    sha = min(commits, key=age)
    meta = commits[sha]
    if set(sha) == {"0"}:
        return UNCOMMITTED
    import datetime as dt
    date = dt.datetime.fromtimestamp(int(meta.get("author-time", "0")), dt.UTC).date().isoformat()
    return Attribution(sha, meta.get("author", "?"), date, meta.get("summary", ""))


def _entry_lines(src: Any, index: int, count: int) -> tuple[int, int]:
    start = src.locate(("results", index)).line
    if index + 1 < count:
        end = src.locate(("results", index + 1)).line - 1
    else:
        text = src._read_text() or ""
        end = max(start, len(text.splitlines()))
    return start, max(start, end)


def attribute(diff: RoundDiff, root: Path, base: GitTree, head: Any) -> None:
    """Name the commit and author behind every indicator change (blame of the observation entry)."""
    head_rev = head.commit if isinstance(head, GitTree) else None
    in_range = git(["rev-list", f"{base.commit}..{head_rev or 'HEAD'}"], root).decode().split()
    for unit in diff.changed():
        if unit.new is None and unit.old is None:
            continue
        obs = (diff.observations if diff.observations is not None else diff.new.round.observations).get(unit.unit)
        entries = {r.indicator: (i, r) for i, r in enumerate(obs.results)} if obs else {}
        rel_obs = None
        if obs is not None and obs.src is not None:
            rel_obs = _relative(obs.src.path, root)
        for member in unit.members:  # a channel's file: the last commit that touched it
            if member.src is not None:
                member.by = _changed_by(root, base.commit, head_rev, _relative(member.src.path, root))
        for change in unit.indicators:
            found = entries.get(change.indicator)
            if change.old_observation != change.new_observation and found and rel_obs and obs is not None:
                start, end = _entry_lines(obs.src, found[0], len(obs.results))
                change.by = _blame(root, head_rev, rel_obs, start, end, in_range)
            elif change.old_observation != change.new_observation and rel_obs:
                change.by = _changed_by(root, base.commit, head_rev, rel_obs)
            else:  # the observation is the same: the scheme changed
                scheme_src = unit.new.scheme.src if unit.new else None
                if scheme_src is not None:
                    change.by = _changed_by(root, base.commit, head_rev, _relative(scheme_src.path, root))


UNCOMMITTED = Attribution("", "(working tree)", "", "not committed yet")


def _changed_by(root: Path, base: str, head: str | None, rel: str) -> Attribution | None:
    """The last commit in base..head that touched a file; the working tree if it has edits."""
    if head is None and git(["status", "--porcelain", "--", rel], root).strip():
        return UNCOMMITTED
    return _log_one(root, base, head, rel)


def _relative(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()
