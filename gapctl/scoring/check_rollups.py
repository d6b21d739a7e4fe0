"""Checks of a round's graph of scores: channels, subordinate units, samples, periods.

A unit's score may be built from other scores (gapctl.scheme.constructs.groups). What is checked here,
each with the position of the fault: every group's scheme and members exist; a channel is taken
by exactly one group of its unit's scheme; no subordinate is rolled up twice into one unit; a
group that says so is scored by the scheme it names; a draw (`[[samples]]`) names only members
of its group, as many as it says there were, and every unit whose group is sampled has one;
period rounds exist and do not contain the round itself (a cycle, named). Returns problems.
"""

from __future__ import annotations

from pathlib import Path

from gapctl.data.model import Observations, Round, Scheme, Unit
from gapctl.i18n import _
from gapctl.problems import ROLLUP, ROLLUP_CYCLE, UNKNOWN_REFERENCE, Problem
from gapctl.scheme.rules import listed


def _suggest(name: str, known) -> str:
    from gapctl.scoring.validate import _suggest as suggest
    return suggest(name, known)


def check_scheme_groups(scheme: Scheme) -> list[Problem]:
    """What a scheme's groups say on their own."""
    out: list[Problem] = []
    seen: set[str] = set()
    for group in scheme.groups:
        if group.id in seen:
            out.append(Problem(ROLLUP, _("group id '{id}' is used twice").format(id=group.id), group.src,
                               group.at + ("id",)))
        seen.add(group.id)
        if group.of == "channels" and not group.scheme:
            out.append(Problem(ROLLUP, _("group '{id}' of channels needs 'scheme': the scheme that scores each "
                                         "channel").format(id=group.id), group.src, group.at, on="key"))
        if group.combine == "weighted" and not group.weights:
            out.append(Problem(ROLLUP, _("group '{id}' combines by weight but gives no 'weights'").format(id=group.id),
                               group.src, group.at + ("combine",)))
        if group.sample and group.of != "subordinates":
            out.append(Problem(ROLLUP, _("group '{id}': only subordinate units are drawn as a sample").format(
                id=group.id), group.src, group.at + ("sample",)))
        if group.weights and group.combine != "weighted":
            out.append(Problem(ROLLUP, _("group '{id}' gives 'weights' but combines by {combine}; write combine: "
                                         "weighted (or drop the weights)").format(id=group.id, combine=group.combine),
                               group.src, group.at + ("weights",)))
        if group.by_type and group.combine != "mean":
            out.append(Problem(ROLLUP, _("group '{id}': by_type takes the mean of each type's mean, so it needs "
                                         "combine: mean, not {combine}").format(id=group.id, combine=group.combine),
                               group.src, group.at + ("by_type",)))
    groups = {g.id for g in scheme.groups}
    for component in scheme.components:
        if component.source.startswith("group:") and component.source[6:] not in groups:
            ident = component.source[6:]
            out.append(Problem(UNKNOWN_REFERENCE, _("component source names group '{id}', which the scheme does not "
                                                    "declare{hint}").format(id=ident, hint=_suggest(ident, groups)),
                               component.src, component.at + ("source",)))
    return out


def check_round_graph(round_: Round) -> list[Problem]:
    """Groups against the round: schemes, subordinates, samples, periods."""
    out: list[Problem] = []
    units = round_.unit_set.by_id() if round_.unit_set else {}
    for scheme in {id(s): s for s in round_.schemes.values()}.values():
        for group in scheme.groups:
            if group.scheme and group.scheme not in round_.schemes:
                out.append(Problem(UNKNOWN_REFERENCE, _("group '{id}' is scored by scheme '{scheme}', but there is no "
                                                        "schemes/{scheme}.yaml").format(id=group.id,
                                                                                        scheme=group.scheme),
                                   group.src, group.at + ("scheme",)))
    out += _check_subordinates(round_, units)
    out += _check_samples(round_, units)
    out += _check_periods(round_)
    for scheme in {id(s): s for s in round_.schemes.values()}.values():
        for group in scheme.groups:
            for key in group.weights:
                if group.of == "periods" and key not in round_.periods:
                    out.append(Problem(UNKNOWN_REFERENCE, _("group '{id}' weighs period '{period}', which is not one "
                                                            "of the round's periods{hint}").format(
                                           id=group.id, period=key, hint=_suggest(key, round_.periods)),
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
                    out.append(Problem(ROLLUP, _("{name} ({id}) is rolled up twice into {unit}: by group '{first}' "
                                                 "and by group '{second}'; narrow their 'select'").format(
                                           name=member.name, id=member.id, unit=unit.name, first=taken[member.id],
                                           second=group.id),
                                       group.src, group.at + ("select",)))
                if group.id in counted:
                    taken.setdefault(member.id, group.id)
                member_scheme = round_.scheme_for(member)
                if group.scheme and (member_scheme is None or member_scheme.id != group.scheme):
                    message = (_("group '{id}' takes units scored by scheme '{scheme}', but {name} ({unit}) is scored "
                                 "by '{other}'") if member_scheme is not None else
                               _("group '{id}' takes units scored by scheme '{scheme}', but {name} ({unit}) is scored "
                                 "by no scheme"))
                    out.append(Problem(ROLLUP, message.format(id=group.id, scheme=group.scheme, name=member.name,
                                                              unit=member.id,
                                                              other=member_scheme.id if member_scheme else ""),
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
                    out.append(Problem(UNKNOWN_REFERENCE, _("the draw names indicator area '{id}', which is not a "
                                                            "top-level indicator{hint}").format(
                                           id=ident, hint=_suggest(ident, tops)), sample.src, at + ("indicators", i)))
            if sample.of is not None and sample.of < len(sample.indicators):
                out.append(Problem(ROLLUP, _("the draw names {n} areas of {of}").format(n=len(sample.indicators),
                                                                                       of=sample.of),
                                   sample.src, at + ("of",)))
            continue
        group = groups.get(sample.group or "")
        if group is None:
            out.append(Problem(UNKNOWN_REFERENCE, _("the draw is for group '{id}', which no scheme of the round "
                                                    "declares{hint}").format(id=sample.group,
                                                                             hint=_suggest(str(sample.group), groups)),
                               sample.src, at + ("group",)))
            continue
        if not group.sample:
            out.append(Problem(ROLLUP, _("group '{id}' is not sampled (`sample: true`); its draw would be "
                                         "ignored").format(id=group.id), sample.src, at + ("group",)))
        parent = units.get(sample.unit) if sample.unit else None
        if sample.unit and parent is None:
            out.append(Problem(UNKNOWN_REFERENCE, _("the draw is for unit '{unit}', which is not in unit set "
                                                    "'{set}'{hint}").format(unit=sample.unit, set=round_.units_id,
                                                                            hint=_suggest(sample.unit, units)),
                               sample.src, at + ("unit",)))
            continue
        if (group.id, sample.unit) in recorded:
            message = (_("a second draw for group '{id}' of {unit}; keep one") if parent else
                       _("a second draw for group '{id}' (for every unit); keep one"))
            out.append(Problem(ROLLUP, message.format(id=group.id, unit=parent.name if parent else ""),
                               sample.src, at))
        recorded.add((group.id, sample.unit))
        parents = [parent] if parent else [u for u, _ in _parents(round_, units)]
        pool = {m.id for p in parents for m in members_of(round_, units, p, group)}
        for i, drawn in enumerate(sample.drawn):
            if drawn not in pool:
                message = (_("'{drawn}' was drawn, but it is not a member of group '{id}' of {unit}{hint}") if parent
                           else _("'{drawn}' was drawn, but it is not a member of group '{id}'{hint}"))
                out.append(Problem(ROLLUP, message.format(drawn=drawn, id=group.id, unit=parent.name if parent else "",
                                                          hint=_suggest(drawn, pool)),
                                   sample.src, at + ("drawn", i)))
        if sample.of is not None and parent is not None and sample.of != len(pool):
            out.append(Problem(ROLLUP, _("the draw says it drew from {of}, but group '{id}' of {unit} has {n} "
                                         "members").format(of=sample.of, id=group.id, unit=parent.name, n=len(pool)),
                               sample.src, at + ("of",)))
        if not sample.seed and not sample.minutes:
            out.append(Problem(ROLLUP, _("a draw needs its 'seed' or the 'minutes' of the draw (抽签记录)"),
                               sample.src, at))
    for unit, scheme in _parents(round_, units):
        for group in scheme.groups:
            if group.sample and (group.id, unit.id) not in recorded and (group.id, None) not in recorded \
                    and members_of(round_, units, unit, group):
                out.append(Problem(ROLLUP, _("group '{id}' of {unit} is sampled, but the round records no draw for it "
                                             "([[samples]] in round.toml)").format(id=group.id, unit=unit.name),
                                   round_.src, ("samples",), on="key"))
    return out


def _check_periods(round_: Round) -> list[Problem]:
    out: list[Problem] = []
    rounds_dir = Path(round_.directory).parent
    for i, period in enumerate(round_.periods):
        path = rounds_dir / period
        if not (path / "round.toml").is_file() and not (path / "round.yaml").is_file():
            out.append(Problem(UNKNOWN_REFERENCE, _("period '{period}' is not a round (no "
                                                    "rounds/{period}/round.toml)").format(period=period),
                               round_.src, ("periods", i)))
            continue
        cycle = _period_cycle(rounds_dir, period, (round_.id,))
        if cycle:
            out.append(Problem(ROLLUP_CYCLE, _("periods lead back to this round: {cycle}").format(
                cycle=" → ".join(cycle)), round_.src, ("periods", i)))
            continue
        from gapctl.api import check
        errors = len(check(path).report.errors)
        if errors:
            out.append(Problem(ROLLUP, _("period round '{period}' has {n} error(s), and this round's scores read it: "
                                         "run gapctl validate rounds/{period}").format(period=period, n=errors),
                               round_.src, ("periods", i)))
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
    from gapctl.scoring.score import channel_unit
    from gapctl.scoring.validate import check_observations, unit_not_in_set

    unit = units.get(obs.unit)
    if unit is None:
        return [unit_not_in_set(_("a channel of unit '{unit}', which is not in unit set '{set}'{hint}"),
                                round_, units, obs)]
    scheme = round_.scheme_for(unit)
    groups = [g for g in (scheme.groups if scheme else []) if g.of == "channels"
              and (not g.types or obs.channel_type in g.types)]
    if len(groups) != 1:
        message = (_("channel '{channel}' of type '{type}' is taken by no group of scheme '{scheme}'; a channel "
                     "belongs to exactly one group") if not groups else
                   _("channel '{channel}' of type '{type}' is taken by {n} groups ({groups}) of scheme '{scheme}'; a "
                     "channel belongs to exactly one group"))
        return [Problem(ROLLUP, message.format(channel=obs.channel, type=obs.channel_type, n=len(groups),
                                               groups=listed(g.id for g in groups),
                                               scheme=scheme.id if scheme else "?"),
                        obs.src, ("type",))]
    sub = round_.schemes.get(groups[0].scheme or "")
    if sub is None:
        return []  # reported with the round's groups
    return check_observations(round_, sub, channel_unit(obs.unit, obs), obs, evidence_files)
