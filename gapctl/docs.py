"""Reference docs generated from the code: docs/rules.md and docs/problems.md.

`python -m gapctl.docs` rewrites them; a test fails when the committed files drift.
"""

from __future__ import annotations

import sys
from pathlib import Path

from gapctl.problems import CATALOGUE
from gapctl.rules import REGISTRY


def rules_md() -> str:
    lines = ["# Rule kinds", "",
             "Generated from `gapctl/rules/` by `python -m gapctl.docs`; do not edit by hand.", "",
             "A leaf indicator is scored by one rule (`rule:`), or by variants (`rules:`) chosen",
             "by `when:`. Every rule may carry `assumed: true` and `assumed_note` when the",
             "published scheme does not give the rule.", ""]
    lines += ["Rules compose with keys of the indicator itself: `cap` and `floor` bound what any",
              "indicator or group earns; `moves_to` hands the points of an indicator that does not",
              "apply to another one; an `items` rule's items may carry their own `applies_to`;",
              "`threshold` may test a subtotal (`of: <indicator id>`); `rank` may rank within the",
              "unit's category. Result states are kept apart: `n/a` leaves the denominator,",
              "`no-evidence` counts as not done, `pending` is an error for `gapctl score --final`.", ""]
    lines += ["| kind | observation field | summary |", "|---|---|---|"]
    for kind in REGISTRY.values():
        lines.append(f"| `{kind.name}` | `{kind.value_field or '—'}` | {kind.summary} |")
    for kind in REGISTRY.values():
        lines += ["", f"## `{kind.name}`", "", kind.summary, ""]
        if kind.params:
            lines += ["| parameter | required | meaning |", "|---|---|---|"]
            for name, spec in kind.params.items():
                lines.append(f"| `{name}` | {'yes' if spec.required else 'no'} | {spec.doc or spec.type} |")
            lines.append("")
        lines += ["```yaml", kind.example, "```"]
    return "\n".join(lines) + "\n"


def problems_md() -> str:
    lines = ["# Problem codes", "",
             "Generated from `gapctl/problems.py` by `python -m gapctl.docs`; do not edit by hand.",
             "`gapctl validate --list-codes` prints the same catalogue.", "",
             "Errors (`E…`) make `gapctl validate` exit 1; warnings (`W…`) only with `--strict`.", "",
             "| code | name | severity | title |", "|---|---|---|---|"]
    kinds = sorted(CATALOGUE.values(), key=lambda k: k.code)
    for kind in kinds:
        lines.append(f"| {kind.code} | `{kind.name}` | {kind.severity} | {kind.title} |")
    for kind in kinds:
        lines += ["", f"## {kind.code} `{kind.name}`", "", kind.description]
    return "\n".join(lines) + "\n"


GENERATED = {"docs/rules.md": rules_md, "docs/problems.md": problems_md}


def main(root: Path) -> int:
    for rel, make in GENERATED.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(make(), encoding="utf-8")
        print(f"wrote {rel}")
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path.cwd()))
