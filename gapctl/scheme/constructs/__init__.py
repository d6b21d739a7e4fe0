"""Scoring constructs: the steps a node's score goes through besides its rule. One module each.

A unit is scored as a small pipeline (see gapctl/scoring/score.py): each leaf earns or loses points by
its rule (gapctl/scheme/rules/, `clauses` among them) → points of what does not apply are redistributed
→ bounds hold nodes within [0, points] at the declared level (扣完为止) → gates decide whether a
node or section counts → vetoes and pass lines decide grades, totals and parts → the base and
the total are formulas over named subtotals (weights, conversion). Each construct module defines
`CONSTRUCT`: where it is written in a scheme, what it does, and the conformance case under
tests/schemes/ that docs/rules.md shows as its worked example (a test scores every case).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(slots=True)
class Decision:
    """A condition decided for one unit (a gate, veto, pass line or threshold), kept for explain:
    what it belongs to, whether it held, and the subtotals as they stood when it was decided."""

    kind: str  # gate, veto, threshold
    owner: str  # the section, indicator or veto it belongs to
    condition: Any  # gapctl.data.model.Condition
    held: bool
    names: Any = field(default_factory=dict)  # the subtotals then (gapctl.scoring.unit_env.Subtotals); {}: none kept


@dataclass(frozen=True)
class Construct:
    name: str
    keys: str  # where it is written in a scheme
    summary: str
    explain: str  # what explain prints for it
    example: str  # tests/schemes/<mechanic>/<case>, the worked example


def registry() -> list[Construct]:
    from gapctl.scheme.constructs import bounds, formulas, gates, groups, panels, redistribute, vetoes

    return [bounds.CONSTRUCT, redistribute.CONSTRUCT, gates.CONSTRUCT, vetoes.CONSTRUCT, vetoes.PASS_LINE,
            formulas.CONSTRUCT, groups.CONSTRUCT, panels.CONSTRUCT]
