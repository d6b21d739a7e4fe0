"""Units and indicators as people name them: by id, or by name (区财政金融局, 政府债务).

Who calls it: the command line, for every argument or option that names a unit or an indicator
(`explain ROUND UNIT [INDICATOR]`, `score --unit`, `evidence add ROUND UNIT INDICATOR`), before it
calls the library; the library itself only ever sees ids.

Contract. `unit(text, units, where)` and `indicator(text, indicators, where)` return the id that
`text` names, trying in this order and taking the first rule that gives an answer:

1. the exact id (`finance`, `2.1.13`);
2. the exact name (`name`, or `name_en` where one is given);
3. a prefix of names (`区财政` for 区财政金融局), when it starts the names of one thing only.

Text is compared as given, after trimming surrounding white space; ids are exact, names written
in Latin letters (`name_en`) ignore case. A name shared by two things, or a prefix of several,
names none of them (an id always wins over another thing's name). When nothing is named,
`Unknown` is raised with one line to print (in the current language): what was not found where,
and the closest ids and names (difflib over both, ratio 0.6 or more, three at most), or the
candidates of an ambiguous name (five at most, then "…"). Nothing here reads files or prints.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from typing import Any

from gapctl.i18n import N_, _, lang

SHOWN = 5  # candidates named in one line at most
Choice = tuple[str, tuple[str, ...]]  # (id, names)


class Unknown(LookupError):
    """`text` names nothing (or several things); `line` says so, with suggestions, in one line.
    `candidates`: the things it might mean (all those an ambiguous name fits, else the closest)."""

    def __init__(self, line: str, candidates: Sequence[Choice] = (), ambiguous: bool = False) -> None:
        super().__init__(line)
        self.line = line
        self.candidates = list(candidates)
        self.ambiguous = ambiguous


def choices(things: Iterable[Any]) -> list[Choice]:
    """(id, names) of units or indicators: `name`, then `name_en` when there is one."""
    return [(t.id, tuple(n for n in (t.name, getattr(t, "name_en", None)) if n)) for t in things]


def lookup(text: str, options: Sequence[Choice]) -> tuple[str | None, list[Choice]]:
    """(id, []) for what `text` names by the rules above; (None, candidates) when a name or a
    prefix fits several (all of them), (None, []) when it fits none."""
    text = text.strip()
    for ident, _names in options:
        if ident == text:
            return ident, []
    for fits in (lambda name: _same(name, text), lambda name: _starts(name, text)):
        found = [(ident, names) for ident, names in options if any(fits(name) for name in names)]
        if len(found) == 1:
            return found[0][0], []
        if found:
            return None, found
    return None, []


def suggestions(text: str, options: Sequence[Choice], n: int = 3) -> list[Choice]:
    """The choices whose id or a name is closest to `text` (difflib), best first; at most `n`."""
    words: dict[str, int] = {}
    for k, (ident, names) in enumerate(options):
        for word in (ident, *names):
            words.setdefault(word, k)
    close = difflib.get_close_matches(text.strip(), list(words), n=n * 2, cutoff=0.6)
    found = list(dict.fromkeys(words[word] for word in close))
    return [options[k] for k in found[:n]]


def unit(text: str, units: Iterable[Any], where: str) -> str:
    """The id of the unit `text` names (see the module docstring); `where` names the round."""
    return _named(text, units, where, N_("'{text}' names more than one unit in {where}: {candidates}; give the id"),
                  N_("no unit '{text}' in {where}; did you mean {candidates}?"), N_("no unit '{text}' in {where}"))


def indicator(text: str, indicators: Iterable[Any], where: str) -> str:
    """The id of the indicator `text` names (see the module docstring); `where` names the scheme."""
    return _named(text, indicators, where,
                  N_("'{text}' names more than one indicator in {where}: {candidates}; give the id"),
                  N_("no indicator '{text}' in {where}; did you mean {candidates}?"),
                  N_("no indicator '{text}' in {where}"))


def _named(text: str, things: Iterable[Any], where: str, ambiguous: str, close_to: str, absent: str) -> str:
    """`unit` and `indicator`: the id, or `Unknown` with the line (its three msgids, translated here) that says why."""
    options = choices(things)
    ident, several = lookup(text, options)
    if ident is not None:
        return ident
    if several:
        raise Unknown(_(ambiguous).format(text=text, where=where, candidates=_listed(several)), several, ambiguous=True)
    close = suggestions(text, options)
    if close:
        raise Unknown(_(close_to).format(text=text, where=where, candidates=_listed(close)), close)
    raise Unknown(_(absent).format(text=text, where=where))


def _same(name: str, text: str) -> bool:
    return name == text or (name.isascii() and name.casefold() == text.casefold())


def _starts(name: str, text: str) -> bool:
    return bool(text) and (name.startswith(text) or (name.isascii() and name.casefold().startswith(text.casefold())))


def _listed(options: Sequence[Choice]) -> str:
    """`finance (区财政金融局), econ (区经济发展局)`, at most SHOWN of them, then `…`."""
    shown = [_("{id} ({name})").format(id=ident, name=names[0]) if names else ident
             for ident, names in options[:SHOWN]]
    text = ("、" if lang() == "zh" else ", ").join(shown)
    return text + " …" if len(options) > SHOWN else text
