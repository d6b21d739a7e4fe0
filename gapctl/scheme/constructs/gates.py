"""Gates (加分门槛): a section, item or indicator counts only while a condition holds.

`gate: base > 85` on the bonus section: no bonus unless the base is strictly above 85 (`>=`
for "85分以上（含）"). A gate may sit on the bonus or penalty section, on one of their items, or
on an indicator of the tree (there it may read only observations: the tree is still being
summed). When the condition does not hold, what it guards earns 0 and explain says so with the
figures: `基础得分 > 85：84.5 > 85 → 不成立`.
"""

from __future__ import annotations

from gapctl.data.model import Condition
from gapctl.scheme.constructs import Construct
from gapctl.scheme.formula import FormulaError, evaluate, truth


def holds(condition: Condition | None, env) -> bool:
    """Whether a condition holds; a condition that could not be read or computed never does."""
    if condition is None or condition.formula is None:
        return False
    try:
        return truth(evaluate(condition.formula, env))
    except (FormulaError, KeyError):
        return False


CONSTRUCT = Construct(
    name="gates",
    keys="`gate:` on `bonus:` / `penalty:`, on their items, or on an indicator (a formula, or `{when, name}`)",
    summary=("A section, item or indicator counts only when its condition holds: the bonus only when the base is "
             "above 85, a part only when the sum of two others reaches a figure. Strict (`>`) and non-strict "
             "(`>=`, `≥`) comparisons both occur in published schemes."),
    explain="a `门槛` line with the condition, its figures and whether it held; when not, the part earns 0",
    example="gates/bonus-strict",
)
