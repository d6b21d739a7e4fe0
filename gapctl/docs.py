"""Reference docs generated from the code: docs/rules.md and docs/problems.md.

`python -m gapctl.docs` rewrites them; a test fails when the committed files drift.
"""

from __future__ import annotations

import sys
from pathlib import Path

from gapctl.i18n import in_lang
from gapctl.problems import CATALOGUE
from gapctl.scheme.rules import REGISTRY


def rules_md() -> str:
    lines = ["# Rule kinds", "",
             "Generated from `gapctl/scheme/rules/` by `python -m gapctl.docs`; do not edit by hand.", "",
             "A leaf indicator is scored by one rule (`rule:`), or by variants (`rules:`) chosen",
             "by `when:`. Every rule, like every other mapping of a scheme or round, may carry",
             "`assumed: true` and `assumed_note` when the published scheme does not give it, or",
             "`assumed: {key: why}` when only some of its keys' values are not published (`gapctl show`",
             "and the reports' method section list them all). An item of an `items` rule may apply to",
             "some units only (`applies_to`): then each unit's applicable items should add up to the",
             "indicator's points, and where they do not, the unit's score is scaled to them.", ""]
    lines += ["Rules compose with the scoring constructs below (bounds, redistribution, gates, vetoes,",
              "pass lines, formulas) and with keys of the indicator itself: `cap` and `floor` bound what any",
              "indicator or group earns; an `items` rule's items may carry their own `applies_to`;",
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
    lines += constructs_md()
    lines += formula_md()
    return "\n".join(lines) + "\n"


def constructs_md(root: Path | None = None) -> list[str]:
    """The scoring constructs, each with its worked example: a conformance case under tests/schemes/."""
    from gapctl.scheme.constructs import registry

    root = root or Path.cwd()
    lines = ["", "# Scoring constructs", "",
             "A node's score is a small pipeline: its rule earns or deducts (`clauses` among the kinds above) →",
             "points of what does not apply are redistributed → bounds hold nodes within [0, points] at the",
             "declared level → gates decide whether a node or section counts → vetoes and pass lines decide",
             "grades, totals and parts → the base and the total are formulas over named subtotals. Each construct",
             "is data in the scheme and prints its own line in `gapctl explain`.", "",
             "| construct | written as | explain shows |", "|---|---|---|"]
    constructs = registry()
    for c in constructs:
        lines.append(f"| {c.name} | {c.keys} | {c.explain} |")
    for c in constructs:
        lines += ["", f"## {c.name}", "", c.summary, "", f"Written as: {c.keys}.", ""]
        case = root / "tests" / "schemes" / c.example
        lines += _worked_example(case, c.example)
    return lines


def _worked_example(case: Path, name: str) -> list[str]:
    """A conformance case as documentation: its scheme, observations and the figures the test checks."""
    import json

    if not case.is_dir():
        return [f"(worked example `tests/schemes/{name}` not found)"]
    out = [f"Worked example (`tests/schemes/{name}`, scored by `tests/test_conformance.py`):", ""]
    expected = json.loads((case / "expected.json").read_text(encoding="utf-8"))
    if expected.get("description"):
        out += [expected["description"], ""]
    for path in sorted((case / "schemes").glob("*.yaml")):
        out += ["```yaml", f"# schemes/{path.name}", path.read_text(encoding="utf-8").rstrip("\n"), "```"]
    round_files = sorted(p for p in (case / "rounds").rglob("*") if p.suffix in (".yaml", ".toml") and p.is_file())
    for path in round_files:
        fence = "toml" if path.suffix == ".toml" else "yaml"
        out += [f"```{fence}", f"# {path.relative_to(case).as_posix()}", path.read_text(encoding="utf-8").rstrip("\n"),
                "```"]
    rows = []
    for unit, figures in sorted(expected.get("units", {}).items()):
        shown = ", ".join(f"{k} {v if not isinstance(v, (dict, list)) else json.dumps(v, ensure_ascii=False)}"
                          for k, v in figures.items())
        rows.append(f"| `{unit}` | {shown} |")
    if rows:
        out += ["", "| unit | expected |", "|---|---|", *rows]
    return out


def formula_md() -> list[str]:
    """The formula language of gates, vetoes, clause conditions and the base and total."""
    from gapctl.scheme.formula import FUNCTIONS, NAMES, STAGES

    lines = ["", "# Formulas and conditions", "",
             "Gates, vetoes, a clause's `when`, `scoring.base` and `scoring.total` are formulas, read by a",
             "grammar (lark) and computed in Decimal; never Python `eval`. `gapctl validate` points at the",
             "column of a fault inside a formula (E404), at an id it names that does not exist (E302), and at a",
             "figure it reads that is not known yet where it is used (E405).", "",
             "- numbers `85`, `0.5`, percentages `85%` (0.85), dates `2024-12-15`, text `\"优秀\"`, `true`/`false`;",
             "- `+ - * /` (also `× ÷`; write spaces around `-`), comparisons `> >= < <= == !=` (also `≥ ≤ = ≠`),",
             "  which may chain (`60 <= base < 90`), `and` / `or` / `not` (also `且` / `或` / `非`), parentheses;",
             "- ids are written bare (`score(2.1.3)`, `fact(严重泄密)`) or quoted (`score(\"2.10\")`);",
             "- a finding not recorded counts as false or 0.", "",
             "Figures become known in this order; a formula may read only what is known where it is used:", ""]
    lines += ["{n}. {stage} ({zh})".format(n=n + 1, stage=STAGES[n], zh=in_lang(STAGES[n], "zh"))
              for n in sorted(STAGES)]
    lines += ["", "| where | may read up to |", "|---|---|",
              "| a clause's `when`, a gate on an indicator of the tree | observations |",
              "| a veto that zeroes parts of the tree | indicator scores |",
              "| a veto that zeroes components | the groups (channels, subordinates, periods) |",
              "| `scoring.base`, a gate on the penalty section or its items | the base (not `base` itself) |",
              "| a gate or threshold on the bonus section or its items | deductions |",
              "| `scoring.total` | the bonus |",
              "| other vetoes and pass lines | the total |", "",
              "| name | known at | meaning |", "|---|---|---|"]
    lines += [f"| `{name}` | {STAGES[spec.stage]} | {spec.doc} |" for name, spec in NAMES.items()]
    lines += ["", "| function | known at | meaning |", "|---|---|---|"]
    for name, spec in FUNCTIONS.items():
        args = "…" if spec.variadic else ", ".join("id" if r else "value" for r in spec.refs)
        lines.append(f"| `{name}({args})` | {STAGES[spec.stage]} | {spec.doc} |")
    return lines


def problems_md() -> str:
    """The problem catalogue in both languages: the codes and positions are the same whatever `--lang` says,
    so a Chinese message and an English one are looked up under one code."""
    lines = ["# Problem codes · 问题代码", "",
             "Generated from `gapctl/problems.py` by `python -m gapctl.docs`; do not edit by hand.",
             "`gapctl validate --list-codes` prints the same catalogue. Messages are in Chinese unless `--lang en`",
             "(or `GAPCTL_LANG=en`) asks for English; codes and file:line:col positions are the same in both.", "",
             "由 `python -m gapctl.docs` 根据 `gapctl/problems.py` 生成，请勿手工修改。",
             "`gapctl validate --list-codes` 输出同一目录。",
             "提示信息默认为中文，加 `--lang en`（或设置 `GAPCTL_LANG=en`）则为英文；",
             "两种语言下的问题代码和“文件:行:列”位置完全相同。", "",
             "Errors (`E…`) make `gapctl validate` exit 1; warnings (`W…`) only with `--strict`.",
             "错误（`E…`）使 `gapctl validate` 以退出码 1 结束；警告（`W…`）只在加 `--strict` 时如此。", "",
             "| code | name | severity | title | 标题 |", "|---|---|---|---|---|"]
    kinds = sorted(CATALOGUE.values(), key=lambda k: k.code)
    severity = {"error": "error（错误）", "warning": "warning（警告）"}
    for kind in kinds:
        lines.append(f"| {kind.code} | `{kind.name}` | {severity.get(kind.severity, kind.severity)} | "
                     f"{kind.title} | {kind.title_in('zh')} |")
    for kind in kinds:
        lines += ["", f"## {kind.code} `{kind.name}` · {kind.title_in('zh')}", "",
                  f"**{kind.title}.** {kind.description}", "",
                  f"**{kind.title_in('zh')}。** {kind.description_in('zh')}"]
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
