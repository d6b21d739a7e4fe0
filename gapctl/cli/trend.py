"""`gapctl trend`: each unit's total, rank and grade round by round."""

from __future__ import annotations

from pathlib import Path

import typer

from gapctl.cli.common import (
    FORMAT_OPTION,
    LANG_OPTION,
    Format,
    Lang,
    _dump_json,
    _echo,
    _echo_lines,
    _fail,
    _lang,
    _scored,
    _unit_id,
    app,
)
from gapctl.i18n import N_, _


@app.command("trend", short_help=N_("Each unit's total, rank and grade round by round, and the problems that recur."),
              help=N_("""Each unit's total, rank and grade round by round (rounds in the order of their
periods), the change from the first to the last, and how many problems recur: points lost on
the same indicator in the unit's last two rounds, indicators matched by id or `replaces:` as
`diff` matches them. With --unit: that unit's indicators round by round, and each recurring
problem with what the earlier round asked to fix (整改要求).

Rounds named one by one are compared with each other; a directory (a repository or its
rounds/) gives every round in it, grouped by unit set (the units assessed year after year).

Examples:

  gapctl trend rounds/suizhou-2021 rounds/suizhou-2022

  gapctl trend rounds/

  gapctl trend rounds/ --unit 区财政金融局 --lang en

  gapctl trend rounds/ --format json"""))
def trend_command(
    paths: list[Path] = typer.Argument(..., help=N_("Rounds, or directories of rounds (a repository or its "
                                                    "rounds/).")),
    unit: str | None = typer.Option(None, "--unit", help=N_("Only this unit, with its indicators round by round: "
                                                            "its id, its name or the start of its name.")),
    fmt: Format = FORMAT_OPTION,
    lang: Lang | None = LANG_OPTION,
) -> None:
    from gapctl.report import trend as T
    groups, alone = _trend_groups(paths)
    results = []
    for group in groups:
        scored = [_scored(p, final=False) for p in group]
        in_order = T.order([s.round for s in scored])
        results.append(T.trend(sorted(scored, key=lambda s: in_order.index(s.round))))
    everyone = [u.unit for t in results for u in t.units]
    if unit is not None:
        unit = _unit_id(unit, list({u.id: u for u in everyone}.values()),
                        ", ".join(s.round.id for t in results for s in t.rounds))
        results = [t for t in results if t.unit(unit) is not None]
    language = _lang(lang, [s for t in results for r in t.rounds for s in r.units])
    if fmt is Format.json:
        from gapctl.review.provenance import of_rounds
        _dump_json({"families": [T.json_data(t, unit) for t in results], "alone": alone},
                   of_rounds([s.round for t in results for s in t.rounds]))
        return
    for n, result in enumerate(results):
        if n:
            _echo()
        _echo_lines(T.text_lines(result, language, unit))
    if alone and unit is None:
        _echo()
        _echo(T.alone_line(alone, language))


def _trend_groups(paths: list[Path]) -> tuple[list[list[Path]], list[str]]:
    """The rounds `trend` compares, family by family (paths named one by one: one family; a directory:
    its rounds grouped by unit set), and the ids of rounds left alone in their family."""
    from gapctl.report import trend as T
    from gapctl.scoring.load import load, round_file

    named: list[Path] = []
    found: list[Path] = []
    for path in paths:
        if path.is_dir() and round_file(path):
            named.append(path)
        elif path.is_dir():
            base = path / "rounds" if (path / "rounds").is_dir() else path
            found += [d for d in sorted(base.iterdir()) if d.is_dir() and not d.name.startswith(".") and round_file(d)]
        else:
            raise _fail(_("{path}: not a round directory nor a directory of rounds").format(path=path))
    seen = {p.resolve() for p in named}
    found = [p for p in found if p.resolve() not in seen and not seen.add(p.resolve())]  # type: ignore[func-returns-value]
    groups = [named] if named else []
    read = {}
    for directory in found:
        round_ = load(directory, observations=False).round
        if round_ is not None:
            read[id(round_)] = (round_, directory)
    by_family = T.families([r for r, _d in read.values()])
    paths_of = {id(r): d for r, d in read.values()}
    several = [[paths_of[id(r)] for r in rounds] for rounds in by_family.values() if len(rounds) > 1]
    single = [rounds[0].id for rounds in by_family.values() if len(rounds) == 1]
    if not groups and not several:  # nothing to compare anywhere: show what there is
        return [[paths_of[id(rounds[0])]] for rounds in by_family.values()], []
    return groups + several, single
