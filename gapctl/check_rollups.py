"""Checks of a round's graph of scores: channels, subordinate units, samples, periods.

A unit's score may be built from other scores (gapctl.constructs.groups). What is checked here,
each with the position of the fault: every group's scheme and members exist; a channel is taken
by exactly one group of its unit's scheme; no subordinate is rolled up twice into one unit; a
group that says so is scored by the scheme it names; a draw (`[[samples]]`) names only members
of its group, as many as it says there were, and every unit whose group is sampled has one;
period rounds exist and do not contain the round itself (a cycle, named). Returns problems.
"""

from __future__ import annotations

from pathlib import Path

from gapctl.model import Observations, Round, Scheme, Unit
from gapctl.problems import ROLLUP, ROLLUP_CYCLE, UNKNOWN_REFERENCE, Problem


def _suggest(name: str, known) -> str:
    from gapctl.validate import _suggest as suggest
    return suggest(name, known)


def check_scheme_groups(scheme: Scheme) -> list[Problem]:
    """What a scheme's groups say on their own."""
    out: list[Problem] = []
    seen: set[str] = set()
    for group in scheme.groups:
        if group.id in seen:
            out.append(Problem(ROLLUP, f"group id '{group.id}' is used twice", group.src, group.at + ("id",)))
        seen.add(group.id)
        if group.of == "channels" and not group.scheme:
            out.append(Problem(ROLLUP, f"group '{group.id}' of channels needs 'scheme': the scheme that scores "
                               "each channel", group.src, group.at, on="key"))
        if group.combine == "weighted" and not group.weights:
            out.append(Problem(ROLLUP, f"group '{group.id}' combines by weight but gives no 'weights'",
                               group.src, group.at + ("combine",)))
        if group.sample and group.of != "subordinates":
            out.append(Problem(ROLLUP, f"group '{group.id}': only subordinate units are drawn as a sample",
                               group.src, group.at + ("sample",)))
        if group.weights and group.combine != "weighted":
            out.append(Problem(ROLLUP, f"group '{group.id}' gives 'weights' but combines by {group.combine}; "
                               "write combine: weighted (or drop the weights)", group.src, group.at + ("weights",)))
        if group.by_type and group.combine != "mean":
            out.append(Problem(ROLLUP, f"group '{group.id}': by_type takes the mean of each type's mean, so it needs "
                               f"combine: mean, not {group.combine}", group.src, group.at + ("by_type",)))
    groups = {g.id for g in scheme.groups}
    for component in scheme.components:
        if component.source.startswith("group:") and component.source[6:] not in groups:
            out.append(Problem(UNKNOWN_REFERENCE, f"component source names group '{component.source[6:]}', which "
                               f"the scheme does not declare{_suggest(component.source[6:], groups)}",
                               component.src, component.at + ("source",)))
    return out


def check_round_graph(round_: Round) -> list[Problem]:
    """Groups against the round: schemes, subordinates, samples, periods."""
    out: list[Problem] = []
    units = round_.unit_set.by_id() if round_.unit_set else {}
    for scheme in {id(s): s for s in round_.schemes.values()}.values():
        for group in scheme.groups:
            if group.scheme and group.scheme not in round_.schemes:
                out.append(Problem(UNKNOWN_REFERENCE, f"group '{group.id}' is scored by scheme '{group.scheme}', but "
                                   f"there is no schemes/{group.scheme}.yaml", group.src, group.at + ("scheme",)))
    out += _check_subordinates(round_, units)
    out += _check_samples(round_, units)
    out += _check_periods(round_)
    for scheme in {id(s): s for s in round_.schemes.values()}.values():
        for group in scheme.groups:
            for key in group.weights:
                if group.of == "periods" and key not in round_.periods:
                    out.append(Problem(UNKNOWN_REFERENCE, f"group '{group.id}' weighs period '{key}', which is not "
                                       f"one of the round's periods{_suggest(key, round_.periods)}",
                                       group.src, group.at + ("weights", key), on="key"))
    return out


def _parents(round_: Round, units: dict[str, Unit]) -> list[tuple[Unit, Scheme]]:
    found = []
    for unit in units.values():
        scheme = round_.scheme_for(unit)
        if scheme is not None and any(g.of == "subordinates" for g in scheme.groups):
            found.append((unit, scheme))
    return found


def members_of(round_: Round, units: dict[str, Unit], unit: Unit, group) -> list[Unit]:
    """The subordinate units a group takes (before any sample)."""
    return [u for u in units.values() if u.parent == unit.id
            and (group.select is None or group.select.matches(u))]


def counted_groups(scheme: Scheme) -> set[str]:
    """Groups whose figures add into the score: components and the base and total formulas (a
    group read only by a condition or kept for comparison may share members with another)."""
    used = {c.source[6:] for c in scheme.components if c.source.startswith("group:")}
    for condition in (scheme.scoring.base, scheme.scoring.total):
        if condition is not None and condition.formula is not None:
            used |= {ident for what, ident, _ in condition.formula.references() if what == "group"}
    return used


def _check_subordinates(round_: Round, units: dict[str, Unit]) -> list[Problem]:
    out: list[Problem] = []
    for unit, scheme in _parents(round_, units):
        taken: dict[str, str] = {}
        counted = counted_groups(scheme)
        for group in scheme.groups:
            if group.of != "subordinates":
                continue
            for member in members_of(round_, units, unit, group):
                if member.id in taken and group.id in counted:
                    out.append(Problem(ROLLUP, f"{member.name} ({member.id}) is rolled up twice into {unit.name}: by "
                                       f"group '{taken[member.id]}' and by group '{group.id}'; narrow their 'select'",
                                       group.src, group.at + ("select",)))
                if group.id in counted:
                    taken.setdefault(member.id, group.id)
                member_scheme = round_.scheme_for(member)
                if group.scheme and (member_scheme is None or member_scheme.id != group.scheme):
                    out.append(Problem(ROLLUP, f"group '{group.id}' takes units scored by scheme '{group.scheme}', but "
                                       f"{member.name} ({member.id}) is scored by "
                                       f"'{member_scheme.id if member_scheme else 'no scheme'}'",
                                       member.src, member.at + ("type",)))
    return out


def _check_samples(round_: Round, units: dict[str, Unit]) -> list[Problem]:
    out: list[Problem] = []
    recorded: set[tuple[str, str | None]] = set()
    groups = {g.id: g for s in round_.schemes.values() for g in s.groups}
    tops = {i.id for s in round_.schemes.values() for i in s.indicators}
    for sample in round_.samples:
        at = sample.at
        if sample.indicators:
            for i, ident in enumerate(sample.indicators):
                if ident not in tops:
                    out.append(Problem(UNKNOWN_REFERENCE, f"the draw names indicator area '{ident}', which is not a "
                                       f"top-level indicator{_suggest(ident, tops)}", sample.src,
                                       at + ("indicators", i)))
            if sample.of is not None and sample.of < len(sample.indicators):
                out.append(Problem(ROLLUP, f"the draw names {len(sample.indicators)} areas of {sample.of}",
                                   sample.src, at + ("of",)))
            continue
        group = groups.get(sample.group or "")
        if group is None:
            out.append(Problem(UNKNOWN_REFERENCE, f"the draw is for group '{sample.group}', which no scheme of the "
                               f"round declares{_suggest(str(sample.group), groups)}", sample.src, at + ("group",)))
            continue
        if not group.sample:
            out.append(Problem(ROLLUP, f"group '{group.id}' is not sampled (`sample: true`); its draw would be "
                               "ignored", sample.src, at + ("group",)))
        parent = units.get(sample.unit) if sample.unit else None
        if sample.unit and parent is None:
            out.append(Problem(UNKNOWN_REFERENCE, f"the draw is for unit '{sample.unit}', which is not in unit set "
                               f"'{round_.units_id}'{_suggest(sample.unit, units)}", sample.src, at + ("unit",)))
            continue
        if (group.id, sample.unit) in recorded:
            out.append(Problem(ROLLUP, f"a second draw for group '{group.id}'"
                               + (f" of {parent.name}" if parent else " (for every unit)") + "; keep one",
                               sample.src, at))
        recorded.add((group.id, sample.unit))
        parents = [parent] if parent else [u for u, _ in _parents(round_, units)]
        pool = {m.id for p in parents for m in members_of(round_, units, p, group)}
        for i, drawn in enumerate(sample.drawn):
            if drawn not in pool:
                out.append(Problem(ROLLUP, f"'{drawn}' was drawn, but it is not a member of group '{group.id}'"
                                   + (f" of {parent.name}" if parent else "") + _suggest(drawn, pool),
                                   sample.src, at + ("drawn", i)))
        if sample.of is not None and parent is not None and sample.of != len(pool):
            out.append(Problem(ROLLUP, f"the draw says it drew from {sample.of}, but group '{group.id}' of "
                               f"{parent.name} has {len(pool)} members", sample.src, at + ("of",)))
        if not sample.seed and not sample.minutes:
            out.append(Problem(ROLLUP, "a draw needs its 'seed' or the 'minutes' of the draw (抽签记录)",
                               sample.src, at))
    for unit, scheme in _parents(round_, units):
        for group in scheme.groups:
            if group.sample and (group.id, unit.id) not in recorded and (group.id, None) not in recorded \
                    and members_of(round_, units, unit, group):
                out.append(Problem(ROLLUP, f"group '{group.id}' of {unit.name} is sampled, but the round records no "
                                   "draw for it ([[samples]] in round.toml)", round_.src, ("samples",), on="key"))
    return out


def _check_periods(round_: Round) -> list[Problem]:
    out: list[Problem] = []
    rounds_dir = Path(round_.directory).parent
    for i, period in enumerate(round_.periods):
        path = rounds_dir / period
        if not (path / "round.toml").is_file() and not (path / "round.yaml").is_file():
            out.append(Problem(UNKNOWN_REFERENCE, f"period '{period}' is not a round (no rounds/{period}/round.toml)",
                               round_.src, ("periods", i)))
            continue
        cycle = _period_cycle(rounds_dir, period, (round_.id,))
        if cycle:
            out.append(Problem(ROLLUP_CYCLE, f"periods lead back to this round: {' → '.join(cycle)}",
                               round_.src, ("periods", i)))
            continue
        from gapctl.api import check
        errors = len(check(path).report.errors)
        if errors:
            out.append(Problem(ROLLUP, f"period round '{period}' has {errors} error(s), and this round's scores read "
                               f"it: run gapctl validate rounds/{period}", round_.src, ("periods", i)))
    return out


def _period_cycle(rounds_dir: Path, start: str, path: tuple[str, ...]) -> tuple[str, ...] | None:
    """A chain of periods from `start` back into `path`, found without recursion."""
    import tomllib

    stack = [(start, path)]
    while stack:
        current, trail = stack.pop()
        if current in trail:
            return trail + (current,)
        file = rounds_dir / current / "round.toml"
        try:
            periods = tomllib.loads(file.read_text(encoding="utf-8")).get("periods") or []
        except (OSError, ValueError):
            continue
        stack.extend((str(p), trail + (current,)) for p in periods if isinstance(p, str))
    return None


def check_channel_file(round_: Round, units: dict[str, Unit], obs: Observations,
                       evidence_files: list | None = None) -> list[Problem]:
    """A channel's file: its unit, the one group taking its type, its entries against that scheme."""
    from gapctl.score import channel_unit
    from gapctl.validate import check_observations

    unit = units.get(obs.unit)
    if unit is None:
        return [Problem(UNKNOWN_REFERENCE, f"a channel of unit '{obs.unit}', which is not in unit set "
                        f"'{round_.units_id}'{_suggest(obs.unit, units)}", obs.src, ("unit",))]
    scheme = round_.scheme_for(unit)
    groups = [g for g in (scheme.groups if scheme else []) if g.of == "channels"
              and (not g.types or obs.channel_type in g.types)]
    if len(groups) != 1:
        what = "no group of" if not groups else f"{len(groups)} groups ({', '.join(g.id for g in groups)}) of"
        return [Problem(ROLLUP, f"channel '{obs.channel}' of type '{obs.channel_type}' is taken by {what} scheme "
                        f"'{scheme.id if scheme else '?'}'; a channel belongs to exactly one group",
                        obs.src, ("type",))]
    sub = round_.schemes.get(groups[0].scheme or "")
    if sub is None:
        return []  # reported with the round's groups
    return check_observations(round_, sub, channel_unit(obs.unit, obs), obs, evidence_files)
