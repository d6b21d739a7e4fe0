"""What a scheme, round or unit set says that its published source does not: the `assumed` marks.

Contract. Any mapping of a scheme, round, unit set, external deductions file or calendar may carry
`assumed` (gapctl.data.schema reads it for every shape, so no construct needs code of its own):

- `assumed: true` with `assumed_note: why`: the whole mapping (an indicator, a rule, a grade band,
  `conversion`, `[stages]` …) was not published;
- `assumed: [key, …]` with one `assumed_note`, or `assumed: {key: why, …}`: the values of those keys
  of the mapping were not published (`total_points`, `late_evidence`, one stage's date, an
  indicator's `name` or `applies_to`); a key may be absent, when its default is what was assumed.

The loader turns what the reader met into `Assumption`s (`collect`), each named by where it sits
(`steps`: the indicator, rule, item, grade, stage … from the file's root down, as the file writes
them); `label` words them in a language through the catalogue; `data` gives them for JSON and
`lines` for text. `gapctl show` (schemes, rounds, unit sets) and the reports' method section list
them; nothing here changes a score.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from gapctl.data.model import Assumption
from gapctl.data.sources import SourceFile
from gapctl.i18n import N_, in_lang

# the word for one entry under a key (a list's entries, or the mapping under it); other keys are shown as written
WORDS: dict[str, str] = {
    "indicators": N_("indicator"), "children": N_("indicator"), "rule": N_("scoring rule"),
    "rules": N_("scoring rule"), "items": N_("rule item"), "tiers": N_("tier"), "clauses": N_("clause"),
    "grades": N_("grade band"),
    "components": N_("component"), "external": N_("external source"), "flags": N_("flag"), "vetoes": N_("veto"),
    "measures": N_("measure"), "groups": N_("group"), "categories": N_("ranking category"),
    "scoring": N_("scoring method"), "conversion": N_("conversion"), "ranking": N_("ranking"),
    "assessors": N_("assessors"), "bonus": N_("bonus section"), "penalty": N_("penalty section"),
    "stages": N_("stages"), "period": N_("period"), "schemes": N_("scheme assignment"), "samples": N_("sample"),
    "units": N_("unit"), "deductions": N_("deduction"), "applies_to": N_("applicability"), "gate": N_("gate"),
    "pass_line": N_("pass line"), "redistribute": N_("redistribution"), "when": N_("variant"),
}
ROOTS = {"scheme": N_("scheme"), "round": N_("round"), "units": N_("unit set"), "external": N_("external deductions"),
         "calendar": N_("calendar")}
_UNNAMED = ("scoring", "conversion", "ranking", "assessors", "stages", "period", "applies_to", "when", "bonus",
            "penalty")
KEY = ""  # the kind of a step that is a key as written (`total_points`, `collection_end`)


def _identity(entry: dict[Any, Any]) -> str:
    """How the file names an entry: `3 制定制度清单`, `优秀`, `items`, `≥ 2` …"""
    ident, name = entry.get("id"), entry.get("name")
    if ident is not None and name is not None:
        return f"{ident} {name}"
    for key in ("label", "name", "kind", "scheme", "id", "unit", "group"):
        if entry.get(key) is not None and not isinstance(entry.get(key), (dict, list)):
            return str(entry[key])
    if entry.get("at_least") is not None:
        return f"≥ {entry['at_least']}"
    return ""


def steps_of(root: Any, at: tuple[Any, ...]) -> tuple[tuple[str, str], ...]:
    """Where `at` sits in `root` (the file's data), as (word, text) steps from the root down."""
    out: list[tuple[str, str]] = []
    node, parent_key = root, None
    for step in at:
        try:
            node = node[step]
        except (KeyError, IndexError, TypeError):
            break
        if isinstance(step, int):
            word = WORDS.get(str(parent_key), KEY)
            if out and word == out[-1][0] == WORDS["indicators"]:
                out.pop()  # a sub-indicator is named alone: its id says where it sits
            out.append((word, _identity(node) if isinstance(node, dict) else str(step)))
        elif isinstance(node, list):
            parent_key = step
        elif step in WORDS:  # a mapping under a key: named by the key's word (a section's name is that word)
            out.append((WORDS[step], _identity(node) if isinstance(node, dict) and step not in _UNNAMED else ""))
        else:
            out.append((KEY, str(step)))
        if not isinstance(node, list):
            parent_key = step
    return tuple(out)


def collect(root_kind: str, root: Any, found: Iterable[tuple[tuple[Any, ...], str | None, str]],
            src: SourceFile | None) -> list[Assumption]:
    """The `assumed` marks a reader met (gapctl.data.schema.Reader.assumed) in file `src` of kind `root_kind`
    (scheme, round, units, external), each named by where it sits; one per mapping and key, in the
    file's order (a key's mark where the key is written, an absent key's where its mapping starts)."""
    found = list(found)
    if not found:  # most files: no need to number every key path (a 3,000-unit set has ~20,000)
        return []
    order = _document_order(root)
    out, seen = [], set()
    for at, key, note in sorted(found, key=lambda f: (order.get(f[0] + (f[1],), order.get(f[0], 0)),
                                                      f[1] is not None)):
        if (at, key) in seen:
            continue
        seen.add((at, key))
        steps = steps_of(root, at)
        if key is not None:
            steps += ((KEY, key),)
        out.append(Assumption(root_kind, steps, note, key, src=src, at=at + ((key,) if key else ())))
    return out


def _document_order(root: Any) -> dict[tuple[Any, ...], int]:
    """Every key path of `root` numbered in the order the file writes it (a mapping before its keys)."""
    order: dict[tuple[Any, ...], int] = {}
    stack: list[tuple[tuple[Any, ...], Any]] = [((), root)]
    while stack:
        at, node = stack.pop()
        order[at] = len(order)
        if isinstance(node, dict):
            stack += [(at + (k,), v) for k, v in reversed(list(node.items()))]
        elif isinstance(node, list):
            stack += [(at + (i,), v) for i, v in reversed(list(enumerate(node)))]
    return order


def label(a: Assumption, lang: str) -> str:
    """Where an assumption sits, in `lang`: `指标 3 制定制度清单 · 评分规则 items`, `stages · final`."""
    parts = []
    for word, text in a.steps:
        said = in_lang(word, lang) if word != KEY else ""
        parts.append(f"{said} {text}".strip())
    if not a.steps or (len(a.steps) == 1 and a.steps[0][0] == KEY):
        parts.insert(0, in_lang(ROOTS.get(a.root, a.root), lang))
    return " · ".join(parts)


def where(a: Assumption) -> str:
    """`path:line` of the assumption, for a reader to open the file there."""
    if a.src is None:
        return ""
    found = a.src.locate(a.at, on="key")
    return f"{found.path}:{found.line}" if found.line > 0 else found.path


def data(assumptions: Iterable[Assumption], lang: str) -> list[dict[str, Any]]:
    """For JSON: what (in `lang`), the key path in the file, the key assumed (None: the whole mapping), note."""
    return [{"what": label(a, lang), "where": where(a), "path": ".".join(str(p) for p in a.at), "key": a.key,
             "note": a.note} for a in assumptions]


def lines(assumptions: Iterable[Assumption], lang: str, indent: str = "  ") -> list[str]:
    """One line each: `- where: why` (a missing note said as such)."""
    return [f"{indent}- " + in_lang("{what}: {note}", lang).format(
        what=label(a, lang), note=a.note or in_lang("(no note)", lang)) for a in assumptions]


def under(assumptions: Iterable[Assumption], at: tuple[Any, ...]) -> bool:
    """Whether any assumption sits at or below the mapping at `at` (an indicator and its rules, items …)."""
    size = len(at)
    return any(a.at[:size] == at for a in assumptions)
