"""Figures: one rounding (half-up) for every number gapctl prints, and a scan that keeps it so."""

from __future__ import annotations

import ast
import re
from decimal import Decimal
from pathlib import Path

import pytest

from gapctl.figures import figure, scientific
from tests.conftest import ROOT

PACKAGE = ROOT / "gapctl"
THE_ONE_MODULE = PACKAGE / "figures.py"


@pytest.mark.parametrize(("value", "places", "trim", "expected"), [
    (Decimal("86.25"), 1, False, "86.3"),      # half-even would give 86.2
    (Decimal("89.45"), 1, False, "89.5"),
    (Decimal("-86.25"), 1, False, "-86.3"),    # half away from zero, as by hand
    (Decimal("87"), 1, False, "87.0"),
    (Decimal("0.125"), 2, False, "0.13"),
    (0.125, 2, False, "0.13"),                 # f"{0.125:.2f}" is 0.12
    (2.675, 2, False, "2.68"),                 # the float's shortest repr, not its binary value
    (2.5, 0, False, "3"),                      # round(2.5) is 2
    (Decimal("7.00"), 2, True, "7"),
    (Decimal("2.50"), 2, True, "2.5"),
    (Decimal("1.005"), 2, True, "1.01"),
    (12, 1, False, "12.0"),
    (Decimal("99999999999999.999995"), 5, False, "100000000000000.00000"),  # past 28 digits: no error
])
def test_figure_rounds_half_up(value, places, trim, expected):
    assert figure(value, places, trim=trim) == expected


def test_scientific_rounds_its_mantissa_half_up():
    assert scientific(Decimal("1E+40")) == "1.000E+40"
    assert scientific(Decimal("12345")) == "1.235E+4"
    assert scientific(Decimal("9.99951E+20")) == "1.000E+21"
    assert scientific(Decimal("-2.5E-7"), 2) == "-2.5E-7"


def test_shanghai_2020_attainment_of_86_25_percent_is_published_as_86_3(tmp_path: Path):
    """The audit's case: 10 特色工作 of the district scheme averages exactly 86.25 %, and the table and the
    chart both said 86.2 (Python's half-even formatting)."""
    from gapctl.api import check, score
    from gapctl.report.build import render

    scored = score(check(ROOT / "rounds/shanghai-2020").loaded.round)
    earned = points = Decimal(0)
    for unit in scored.units:
        if unit.scheme.id == "shanghai-2020-districts":
            node = next(n for n in unit.tree if n.indicator.id == "10")
            earned, points = earned + node.earned, points + node.points
    assert earned / points * 100 == Decimal("86.25")
    files = render(scored, "md", "zh")
    assert "| 10 特色工作 (shanghai-2020-districts) | 86.3% |" in files["index.md"]
    chart = files["charts/attainment.svg"]
    label = re.search(r"10 特色工作 \(shanghai-2020-districts\)</text>.*?>([0-9.]+%)</text>", chart)
    assert label and label.group(1) == "86.3%"


# --- the scan --------------------------------------------------------------------------------

_SPEC_PRECISION = re.compile(r"\.\d+|[eEgG%]$")   # `.1f`, `.3E`, `.0%`, `e` … (a bare `f` of a Decimal is exact)
_PERCENT_FORMAT = re.compile(r"%[-+ #0]*(?:\d+|\*)?\.(?:\d+|\*)[eEfFgG]|%[-+ #0]*\d*[eEfFgG]")
_BRACE_FORMAT = re.compile(r"\{[^{}]*:[^{}]*(?:\.\d+[a-zA-Z%]?|[eEfFgG%])\}")


def _spec_text(spec: ast.JoinedStr) -> str:
    return "".join(v.value for v in spec.values if isinstance(v, ast.Constant) and isinstance(v.value, str))


def rounding_outside_figures(source: str) -> list[tuple[int, str]]:
    """(line, what) for every place that formats or rounds a number by itself."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.FormattedValue) and isinstance(node.format_spec, ast.JoinedStr):
            spec = _spec_text(node.format_spec)
            if _SPEC_PRECISION.search(spec):
                found.append((node.lineno, f"format spec ':{spec}'"))
        elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod) \
                and isinstance(node.left, ast.Constant) and isinstance(node.left.value, str) \
                and _PERCENT_FORMAT.search(node.left.value):
            found.append((node.lineno, f"%-format {node.left.value!r}"))
        elif isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Name) and func.id == "format" and len(node.args) > 1 \
                    and isinstance(node.args[1], ast.Constant) and isinstance(node.args[1].value, str) \
                    and _SPEC_PRECISION.search(node.args[1].value):
                found.append((node.lineno, f"format(…, {node.args[1].value!r})"))
            elif isinstance(func, ast.Name) and func.id == "round":
                found.append((node.lineno, "round() (half-even)"))
            elif isinstance(func, ast.Attribute) and func.attr == "quantize" and len(node.args) < 2 \
                    and not any(k.arg == "rounding" for k in node.keywords):
                found.append((node.lineno, "quantize() without rounding= (the context's, half-even)"))
            elif isinstance(func, ast.Attribute) and func.attr == "format" \
                    and isinstance(func.value, ast.Constant) and isinstance(func.value.value, str) \
                    and _BRACE_FORMAT.search(func.value.value):
                found.append((node.lineno, f"{func.value.value!r}.format(…)"))
    return found


@pytest.mark.parametrize("snippet", [
    'f"{x:.1f}"', 'f"{x:>8.2f}"', 'f"{x:.0%}"', 'f"{x:.3E}"', 'f"{x:{width}.2f}"', '"%.1f" % x', '"%5.2f%%" % (x,)',
    'format(x, ".2f")', 'round(x, 1)', 'x.quantize(Decimal("0.1"))', '"{:.1f}".format(x)', '"{0:,.2f}".format(x)',
])
def test_the_scan_finds_each_way_of_rounding(snippet):
    assert rounding_outside_figures(snippet), snippet


@pytest.mark.parametrize("snippet", [
    'f"{x}"', 'f"{n:,}"', 'f"{n:>6}"', 'f"{days:+d}"', 'f"{ch:04X}"', 'format(d, "f")', '"%s" % x', '"%d" % n',
    'x.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)', 'x.quantize(Decimal("0.1"), ROUND_HALF_UP)',
])
def test_the_scan_leaves_exact_formatting_alone(snippet):
    assert not rounding_outside_figures(snippet), snippet


def test_no_module_rounds_a_figure_but_gapctl_figures():
    """Every `:.1f`, `%.2f`, `format(x, ".1f")`, `round()` or bare `quantize()` in gapctl/ is a second
    rounding rule (half-even, or a float's binary value); figures.figure is the one (half-up)."""
    offenders = [f"{path.relative_to(ROOT)}:{line}: {what}"
                 for path in sorted(PACKAGE.rglob("*.py")) if path != THE_ONE_MODULE
                 for line, what in rounding_outside_figures(path.read_text(encoding="utf-8"))]
    assert not offenders, "round and format figures with gapctl.figures.figure:\n" + "\n".join(offenders)


def test_figures_of_equal_decimals_are_kept_and_alike():
    """figure keeps the text of each Decimal it printed (a table prints the same few figures on every row): equal
    values print alike whatever their exponent, but -0 and 0 are kept apart ("-0.0" is what the value says)."""
    from gapctl import figures

    figures._FIGURES.clear()
    assert figure(Decimal("86.25"), 1) == figure(Decimal("86.250"), 1) == "86.3"
    assert figure(Decimal("-0"), 1) == "-0.0" and figure(Decimal("0"), 1) == "0.0"
    assert figure(Decimal("-0.00"), 2, trim=True) == "-0" and figure(Decimal("0.00"), 2, trim=True) == "0"
    assert figure(Decimal("7.00"), 2) == "7.00" and figure(Decimal("7.00"), 2, trim=True) == "7"
    assert figure(Decimal("NaN")) == "NaN" and figure(Decimal("sNaN")) == "sNaN"  # not kept: never equal
    assert (Decimal("86.25"), 1, False, False) in figures._FIGURES
    for n in range(figures._FIGURES_HELD + 10):              # never more than it holds
        figure(Decimal(n) / 7, 2)
    assert 0 < len(figures._FIGURES) <= figures._FIGURES_HELD
