"""Formulas and conditions written in scheme files: parsed by lark, evaluated in Decimal.

Contract. `parse(text)` turns a formula such as `base > 85`, `score(2.1) + score(2.2) >= 50`
or `0.6 * (base + bonus) + 0.4 * measure(panel)` into a `Formula` (a tree of tuples), or
raises `FormulaError` with the 0-based offset of the fault in the text, so validate can point
at file:line:col. Nothing is ever handed to Python's `eval`. `evaluate(formula, env)` computes
it in `Decimal` against an `Env` that knows the unit's names; `render(formula, env, lang)` writes
the same computation with every operand's value, unrounded, for `explain`.

The language (docs/rules.md lists every name):
- numbers `85`, `0.5`, percentages `85%` (= 0.85), dates `2024-12-15`, text `"优秀"`,
  `true`/`false`;
- arithmetic `+ - * /` (also `× ÷`), comparisons `> >= < <= == !=` (also `≥ ≤ = ≠`), which
  may chain (`60 <= base < 90`), and `and`/`or`/`not` (also `且`/`或`/`非`);
- names of the unit's subtotals (`earned`, `applicable`, `base`, `penalty`, `external`,
  `bonus`, `bonus_raw`, `total`) and functions (`score(id)`, `points(id)`, `rate(id)`,
  `fact(name)`, `fact(id, name)`, `count(name)`, `result(id)`, `measure(id)`,
  `component(id)`, `min(…)`, `max(…)`). Ids are written bare (`score(2.1.3)`,
  `fact(严重泄密)`) or quoted (`score("2.10")`).

Stages. A unit's figures become known in a fixed order (`STAGES`): observations, the indicator
tree, the groups (scores of its channels, subordinates and periods), the base, deductions, the
bonus, the total. Each construct is evaluated at one stage and
may read only names known before it; `stage_of` tells what a formula needs, and validate refuses
a gate on the bonus that reads `total` (the total includes that bonus) with the reason.
"""

from __future__ import annotations

import datetime as dt
import difflib
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, DivisionByZero, InvalidOperation
from functools import lru_cache
from typing import Any, Protocol

from gapctl.i18n import N_, _, in_lang
from gapctl.i18n import lang as current_lang
from gapctl.memo import kept

MAX_LENGTH = 500  # characters; a scheme's conditions are a line or two
MAX_DEPTH = 32  # nesting of parentheses and operators

# --- stages ---------------------------------------------------------------------------

OBSERVED, TREE, GROUPS, BASE, DEDUCTIONS, BONUS, TOTAL = range(7)
# each stage's name in English; its Chinese comes from the catalogue: in_lang(STAGES[n], "zh")
STAGES = {OBSERVED: N_("observations"), TREE: N_("indicator scores"),
          GROUPS: N_("scores of channels, subordinates and periods"),
          BASE: N_("base"), DEDUCTIONS: N_("deductions"), BONUS: N_("bonus"), TOTAL: N_("total")}


@dataclass(frozen=True)
class NameSpec:
    """A subtotal formulas read: when it is known, its word (English; Chinese from the catalogue) and
    what it means (English, for docs/rules.md)."""

    stage: int
    en: str
    doc: str

    @property
    def zh(self) -> str:
        return in_lang(self.en, "zh")

    def word(self, lang: str) -> str:
        return in_lang(self.en, lang)


NAMES: dict[str, NameSpec] = {
    "earned": NameSpec(TREE, N_("earned"), "sum of what the indicator tree earned (实得总分)"),
    "applicable": NameSpec(TREE, N_("applicable"), "sum of the points that apply to the unit (应得总分)"),
    "base": NameSpec(BASE, N_("base"), "the base score (基础得分), before bonus and penalty"),
    "penalty": NameSpec(DEDUCTIONS, N_("penalty"), "the penalty section's sum (≤ 0), capped"),
    "external": NameSpec(DEDUCTIONS, N_("external"), "points deducted by external sources"),
    "bonus": NameSpec(BONUS, N_("bonus"), "the bonus section's sum, capped"),
    "bonus_raw": NameSpec(BONUS, N_("bonus before cap"), "the bonus section's sum before its cap"),
    "total": NameSpec(TOTAL, N_("total"), "the total (总得分)"),
}


@dataclass(frozen=True)
class FunctionSpec:
    stage: int
    refs: tuple[str, ...]  # what each argument names: indicator, fact, measure, component; "" = a value
    doc: str
    variadic: bool = False


FUNCTIONS: dict[str, FunctionSpec] = {
    "score": FunctionSpec(TREE, ("indicator",), "what indicator `id` earned (a group: its children's sum)"),
    "points": FunctionSpec(TREE, ("indicator",), "the points of indicator `id` that apply to the unit"),
    "rate": FunctionSpec(TREE, ("indicator",), "score(id) ÷ points(id), 0 when no points apply"),
    "fact": FunctionSpec(OBSERVED, ("fact",), "a finding: `fact(name)` from the unit's `facts` or any "
                         "counted entry's `findings`; `fact(id, name)` from indicator id's entry"),
    "count": FunctionSpec(OBSERVED, ("fact",), "how often a finding was recorded across the unit's counted "
                          "entries and facts (true counts 1, a number counts itself, kinds are summed)"),
    "result": FunctionSpec(OBSERVED, ("indicator",), "the recorded state of indicator id: done, not-done, "
                           "n/a, no-evidence, pending, or recorded (a value), or none"),
    "measure": FunctionSpec(OBSERVED, ("measure",), "a measure recorded for the unit (`measures:`)"),
    "component": FunctionSpec(BASE, ("component",), "a component's value, at the scheme's places"),
    "group": FunctionSpec(GROUPS, ("group",), "a group's members' totals combined as the group says "
                          "(mean, min …), on the unit's scale"),
    "members": FunctionSpec(GROUPS, ("group",), "how many members of a group count (the drawn ones of a sample; "
                            "not one whose total a veto withheld)"),
    "vetoed": FunctionSpec(GROUPS, ("group",), "how many of a group's members a veto decided"),
    "min": FunctionSpec(OBSERVED, ("",), "the least of its arguments", variadic=True),
    "max": FunctionSpec(OBSERVED, ("",), "the greatest of its arguments", variadic=True),
}


class FormulaError(Exception):
    """A formula that cannot be read: `message`, and `offset` (0-based) into its text."""

    def __init__(self, message: str, offset: int = 0):
        super().__init__(message)
        self.message, self.offset = message, offset


@dataclass(frozen=True)
class Formula:
    """A parsed formula: its text as written and its tree.

    Nodes are tuples: ("num", Decimal, text, offset), ("str", text), ("date", date), ("bool", bool),
    ("name", name, offset), ("call", name, args, offset), ("ref", text, offset), ("neg", x),
    ("not", x), ("bin", op, a, b), ("cmp", a, ((op, b), …)), ("and", (x, …)), ("or", (x, …)).
    """

    text: str
    tree: tuple

    def names(self) -> list[tuple[str, int]]:
        """Every subtotal name used, with its offset."""
        return [(n[1], n[2]) for n in _walk(self.tree) if n[0] == "name"]

    def calls(self) -> list[tuple[str, tuple, int]]:
        return [(n[1], n[2], n[3]) for n in _walk(self.tree) if n[0] == "call"]

    def references(self) -> list[tuple[str, str, int]]:
        """(what, id, offset) for every argument that names an indicator, fact, measure or component."""
        out = []
        for name, args, _offset in self.calls():
            for kind, arg in zip(_ref_kinds(name, len(args)), args, strict=False):
                if kind and arg[0] == "ref":
                    out.append((kind, arg[1], arg[2]))
        return out

    def stage(self) -> int:
        """The latest stage whose figures this formula reads."""
        stages = [NAMES[n].stage for n, _ in self.names()]
        stages += [FUNCTIONS[name].stage for name, _args, _offset in self.calls()]
        return max(stages, default=OBSERVED)


def _ref_kinds(function: str, arguments: int) -> tuple[str, ...]:
    if function == "fact" and arguments == 2:
        return ("indicator", "fact")
    return FUNCTIONS[function].refs


def _walk(node: tuple) -> list[tuple]:
    out, stack = [], [node]
    while stack:
        n = stack.pop()
        out.append(n)
        kind = n[0]
        if kind in ("neg", "not"):
            stack.append(n[1])
        elif kind == "bin":
            stack += [n[2], n[3]]
        elif kind == "cmp":
            stack += [n[1]] + [b for _op, b in n[2]]
        elif kind in ("and", "or"):
            stack += list(n[1])
        elif kind == "call":
            stack += list(n[2])
    return out


# --- parsing --------------------------------------------------------------------------

_GRAMMAR = r"""
?start: or_
?or_: and_ (("or" | "或" | "||") and_)*
?and_: not_ (("and" | "且" | "&&") not_)*
?not_: ("not" | "非") not_ -> not_
     | comparison
?comparison: sum (COMP sum)*
?sum: product (ADDOP product)*
?product: unary (MULOP unary)*
?unary: "-" unary -> neg
      | "+" unary
      | atom
?atom: NUMBER -> number
     | PERCENT -> percent
     | DATE -> date
     | DOTTED -> dotted
     | STRING -> string
     | TRUE -> true
     | FALSE -> false
     | NAME "(" [or_ ("," or_)*] ")" -> call
     | NAME -> name
     | "(" or_ ")"

TRUE: "true"
FALSE: "false"
COMP: ">=" | "<=" | "==" | "!=" | ">" | "<" | "≥" | "≤" | "=" | "≠" | "＞" | "＜"
ADDOP: "+" | "-"
MULOP: "*" | "/" | "×" | "÷"
PERCENT.3: /\d+(\.\d+)?[%％]/
DATE.3: /\d{4}-\d{2}-\d{2}/
DOTTED.3: /\d+(\.\d+){2,}/
NUMBER.1: /\d+(\.\d+)?/
STRING: /"[^"\n]*"/ | /'[^'\n]*'/ | /「[^」\n]*」/
NAME: /[A-Za-z_\u4e00-\u9fff][A-Za-z0-9_\-\u4e00-\u9fff]*/
%ignore /[ \t\u3000]+/
"""

_OPS = {"×": "*", "÷": "/", "≥": ">=", "≤": "<=", "=": "==", "≠": "!=", "＞": ">", "＜": "<",
        "或": "or", "||": "or", "且": "and", "&&": "and", "非": "not"}


@lru_cache(maxsize=1)
def _parser() -> Any:
    from lark import Lark  # imported only when a scheme has a formula: start-up stays fast

    return Lark(_GRAMMAR, parser="lalr", maybe_placeholders=False)


@lru_cache(maxsize=4096)
def parse(text: str) -> Formula:
    """The formula in `text`, or FormulaError naming what is wrong and where."""
    if not isinstance(text, str) or not text.strip():
        raise FormulaError(_("the formula is empty"), 0)
    if len(text) > MAX_LENGTH:
        raise FormulaError(_("a formula of {n} characters is too long (at most {most})").format(
            n=len(text), most=MAX_LENGTH), 0)
    from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedToken

    depth = 0
    for offset, char in enumerate(text):
        depth += char == "("
        depth -= char == ")"
        if depth > MAX_DEPTH:
            raise FormulaError(_("parentheses nest more than {most} deep").format(most=MAX_DEPTH), offset)
    try:
        parsed = _parser().parse(text)
    except UnexpectedCharacters as err:
        char = text[err.pos_in_stream] if err.pos_in_stream < len(text) else ""
        raise FormulaError(_("'{char}' cannot stand here").format(char=char), err.pos_in_stream) from None
    except UnexpectedToken as err:
        token = err.token
        if token.type == "$END":
            raise FormulaError(_("the formula stops short (an operand or ')' is missing)"), len(text)) from None
        raise FormulaError(_("'{char}' cannot stand here").format(char=token), token.start_pos or 0) from None
    except UnexpectedEOF:
        raise FormulaError(_("the formula stops short (an operand or ')' is missing)"), len(text)) from None
    tree = _build(parsed)
    formula = Formula(text, tree)
    _check(formula)
    return formula


def _build(node: Any) -> tuple:
    """lark's tree → tuples, iteratively enough for MAX_DEPTH (lark trees are shallow here)."""
    from lark import Token, Tree

    if isinstance(node, Token):
        return _token(node)
    assert isinstance(node, Tree)
    rule, kids = node.data, node.children
    if rule == "number":
        return ("num", Decimal(str(kids[0])), str(kids[0]), kids[0].start_pos)
    if rule == "percent":
        text = str(kids[0])
        return ("num", Decimal(text[:-1]) / 100, text, kids[0].start_pos)
    if rule == "date":
        try:
            return ("date", dt.date.fromisoformat(str(kids[0])))
        except ValueError:
            raise FormulaError(_("there is no such day as {date}").format(date=kids[0]), kids[0].start_pos) from None
    if rule == "dotted":
        return ("ref", str(kids[0]), kids[0].start_pos)
    if rule == "string":
        return ("str", str(kids[0])[1:-1], kids[0].start_pos)
    if rule in ("true", "false"):
        return ("bool", rule == "true")
    if rule == "name":
        return ("name", str(kids[0]), kids[0].start_pos)
    if rule == "call":
        name = str(kids[0])
        return ("call", name, tuple(_build(k) for k in kids[1:]), kids[0].start_pos)
    if rule == "neg":
        return ("neg", _build(kids[0]))
    if rule == "not_":
        return ("not", _build(kids[-1]))
    if rule in ("or_", "and_"):
        return ("or" if rule == "or_" else "and", tuple(_build(k) for k in kids))
    if rule == "comparison":
        first = _build(kids[0])
        pairs = tuple((_OPS.get(str(op), str(op)), _build(b)) for op, b in zip(kids[1::2], kids[2::2], strict=True))
        return ("cmp", first, pairs)
    if rule in ("sum", "product"):
        out = _build(kids[0])
        for op, b in zip(kids[1::2], kids[2::2], strict=True):
            out = ("bin", _OPS.get(str(op), str(op)), out, _build(b))
        return out
    if rule == "unary":  # "+" x
        return _build(kids[-1])
    raise FormulaError(_("cannot read '{rule}'").format(rule=rule), 0)


def _token(token: Any) -> tuple:
    return ("name", str(token), token.start_pos)


def _check(formula: Formula) -> None:
    """Functions must exist with the right number of arguments, ids where ids go, names must exist."""
    for node in _walk(formula.tree):
        if node[0] == "call":
            name, args, offset = node[1], node[2], node[3]
            spec = FUNCTIONS.get(name)
            if spec is None:
                raise FormulaError(_("unknown function '{name}'{hint}").format(
                    name=name, hint=_did_you_mean(name, FUNCTIONS, "functions")), offset)
            wanted = len(spec.refs)
            if name == "fact" and len(args) in (1, 2):
                pass
            elif spec.variadic:
                if not args:
                    raise FormulaError(_("{function}(…) needs at least one argument").format(function=name), offset)
            elif len(args) != wanted:
                raise FormulaError(_("{function}(…) takes {n} argument(s), not {given}").format(
                    function=name, n=wanted, given=len(args)), offset)
    _as_refs(formula)
    for node in _walk(formula.tree):
        if node[0] == "name" and node[1] not in NAMES:
            raise FormulaError(_("unknown name '{name}'{hint}").format(
                name=node[1], hint=_did_you_mean(node[1], [*NAMES, *FUNCTIONS]) + _minus_hint(node[1])), node[2])


def _as_refs(formula: Formula) -> None:
    """Arguments that name something are read as ids: `score(2.1)` names indicator "2.1"."""
    object.__setattr__(formula, "tree", _refs(formula.tree))


def _refs(node: tuple) -> tuple:
    kind = node[0]
    if kind == "call":
        kinds = _ref_kinds(node[1], len(node[2]))
        args = []
        for i, arg in enumerate(node[2]):
            what = kinds[i] if i < len(kinds) else ""
            if what:
                args.append(_ref_of(arg, node[1], node[3]))
            else:
                args.append(_refs(arg))
        return ("call", node[1], tuple(args), node[3])
    if kind in ("neg", "not"):
        return (kind, _refs(node[1]))
    if kind == "bin":
        return ("bin", node[1], _refs(node[2]), _refs(node[3]))
    if kind == "cmp":
        return ("cmp", _refs(node[1]), tuple((op, _refs(b)) for op, b in node[2]))
    if kind in ("and", "or"):
        return (kind, tuple(_refs(x) for x in node[1]))
    return node


def _ref_of(arg: tuple, function: str, offset: int) -> tuple:
    if arg[0] == "ref":
        return arg
    if arg[0] == "num":
        return ("ref", arg[2], arg[3])
    if arg[0] == "name":
        return ("ref", arg[1], arg[2])
    if arg[0] == "str":
        return ("ref", arg[1], arg[2] + 1)
    raise FormulaError(_("{function}(…) takes an id (such as 2.1 or a name), not a computed value").format(
        function=function), offset)


def _did_you_mean(name: str, known: Any, what: str = "names") -> str:
    close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.6)
    if close:
        return _("; did you mean '{close}'?").format(close=close[0])
    if what == "names":
        return _("; known names: {names}").format(names=_listed(NAMES))
    return _("; known functions: {functions}").format(functions=_listed(f"{f}(…)" for f in FUNCTIONS))


def _listed(items: Any) -> str:
    """Names listed in a message: `a, b` in English, `a、b` in Chinese (gapctl.scoring.validate.listed)."""
    return ("、" if current_lang() == "zh" else ", ").join(items)


def _minus_hint(name: str) -> str:
    head = name.split("-")[0]
    return _(" (write spaces around '-' to subtract: {name} - …)").format(name=head) \
        if "-" in name and head in NAMES else ""


# --- evaluation -----------------------------------------------------------------------

Value = Decimal | bool | str | dt.date | None


class Env(Protocol):
    """What a formula can read about one unit."""

    def name(self, name: str) -> Value: ...

    def call(self, function: str, args: tuple[str, ...]) -> Value: ...


def number(value: Value) -> Decimal:
    """A value in arithmetic: true 1, false or nothing 0."""
    if isinstance(value, bool):
        return Decimal(1) if value else Decimal(0)
    if isinstance(value, Decimal):
        return value
    if value is None:
        return Decimal(0)
    if isinstance(value, int):
        return Decimal(value)
    raise FormulaError(_("'{value}' is not a number").format(value=value), 0)


def truth(value: Value) -> bool:
    """A value as a condition: a number is true when not 0; nothing is false."""
    if isinstance(value, bool):
        return value
    if isinstance(value, Decimal):
        return value != 0
    return bool(value)


def evaluate(formula: Formula, env: Env) -> Value:
    return _eval(formula.tree, env, None)


def _eval(node: tuple, env: Env, seen: Callable[[tuple, Value], None] | None) -> Value:
    kind = node[0]
    if kind == "num":
        value: Value = node[1]
    elif kind in ("str", "date", "bool"):
        value = node[1]
    elif kind == "name":
        value = env.name(node[1])
    elif kind == "call":
        name = node[1]
        if name in ("min", "max"):
            values = [number(_eval(a, env, seen)) for a in node[2]]
            value = min(values) if name == "min" else max(values)
        else:
            value = env.call(name, tuple(a[1] for a in node[2]))
    elif kind == "neg":
        value = -number(_eval(node[1], env, seen))
    elif kind == "not":
        value = not truth(_eval(node[1], env, seen))
    elif kind == "bin":
        a, b = number(_eval(node[2], env, seen)), number(_eval(node[3], env, seen))
        op = node[1]
        try:
            value = a + b if op == "+" else a - b if op == "-" else a * b if op == "*" else a / b
        except (DivisionByZero, InvalidOperation):
            raise FormulaError(_("division by zero"), 0) from None
    elif kind == "cmp":
        left = _eval(node[1], env, seen)
        value = True
        for op, right_node in node[2]:
            right = _eval(right_node, env, seen)
            if not _compare(left, op, right):
                value = False
                if seen is None:
                    break
            left = right
    elif kind in ("and", "or"):  # every operand is evaluated when explaining, so each shows its value
        truths = [truth(_eval(x, env, seen)) for x in node[1]] if seen is not None else None
        if kind == "and":
            value = all(truths) if truths is not None else all(truth(_eval(x, env, None)) for x in node[1])
        else:
            value = any(truths) if truths is not None else any(truth(_eval(x, env, None)) for x in node[1])
    else:
        raise FormulaError(_("cannot evaluate '{kind}'").format(kind=kind), 0)
    if seen is not None:
        seen(node, value)
    return value


_COMPILED: dict[int, tuple[Formula, Callable[[Env], Value]]] = {}


def compiled(formula: Formula) -> Callable[[Env], Value]:
    """The formula as one Python closure of the environment, built once per formula.

    Same values, same Decimal arithmetic and same errors as `evaluate` (the general evaluator,
    which explain still uses to show each part's value); scoring calls a scheme's base and
    total formulas once per unit, and walking the tree node by node was most of that time.
    """
    found = _COMPILED.get(id(formula))
    if found is not None and found[0] is formula:
        return found[1]
    fn = _compile(formula.tree)
    kept(_COMPILED, id(formula), (formula, fn), 4096)  # the formula kept alive, so its id is not reused
    return fn


def _compile(node: tuple) -> Callable[[Env], Value]:  # noqa: C901 - one case per kind of node, as _eval
    kind = node[0]
    if kind in ("num", "str", "date", "bool"):
        const = node[1]
        return lambda env: const
    if kind == "name":
        name = node[1]
        return lambda env: env.name(name)
    if kind == "call":
        function = node[1]
        if function in ("min", "max"):
            parts = tuple(_compile(a) for a in node[2])
            pick = min if function == "min" else max
            return lambda env: pick([number(p(env)) for p in parts])
        args = tuple(a[1] for a in node[2])
        return lambda env: env.call(function, args)
    if kind == "neg":
        inner = _compile(node[1])
        return lambda env: -number(inner(env))
    if kind == "not":
        inner = _compile(node[1])
        return lambda env: not truth(inner(env))
    if kind == "bin":
        return _compile_bin(node[1], _compile(node[2]), _compile(node[3]))
    if kind == "cmp":
        first = _compile(node[1])
        rest = tuple((op, _compile(right)) for op, right in node[2])

        def compare(env: Env) -> Value:
            left = first(env)
            for op, right_fn in rest:
                right = right_fn(env)
                if not _compare(left, op, right):
                    return False
                left = right
            return True
        return compare
    if kind in ("and", "or"):
        parts = tuple(_compile(x) for x in node[1])
        if kind == "and":
            return lambda env: all(truth(p(env)) for p in parts)
        return lambda env: any(truth(p(env)) for p in parts)
    return lambda env: _eval(node, env, None)  # anything else: the general evaluator (and its error)


def _compile_bin(op: str, left: Callable[[Env], Value], right: Callable[[Env], Value]) -> Callable[[Env], Value]:
    def apply(env: Env) -> Value:
        a = left(env)
        if type(a) is not Decimal:
            a = number(a)
        b = right(env)
        if type(b) is not Decimal:
            b = number(b)
        try:
            return a + b if op == "+" else a - b if op == "-" else a * b if op == "*" else a / b
        except (DivisionByZero, InvalidOperation):
            raise FormulaError(_("division by zero"), 0) from None
    return apply


def _compare(left: Value, op: str, right: Value) -> bool:
    if isinstance(left, (str, dt.date)) or isinstance(right, (str, dt.date)):
        if op == "==":
            return left == right
        if op == "!=":
            return left != right
        if type(left) is not type(right):
            return False
        a, b = left, right
    else:
        a, b = number(left), number(right)
    return {">": a > b, ">=": a >= b, "<": a < b, "<=": a <= b, "==": a == b, "!=": a != b}[op]  # type: ignore[operator]


# --- explaining -----------------------------------------------------------------------

def show_value(value: Value, lang: str) -> str:
    """A value as explain prints it: numbers exact (89.45, never rounded), true/false in words."""
    if isinstance(value, bool):
        return in_lang("true", lang) if value else in_lang("false", lang)
    if value is None:
        return in_lang("none", lang)
    if isinstance(value, Decimal):
        return exact(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return f"“{value}”" if lang == "zh" else f'"{value}"'  # quotation marks: punctuation, not words


EXACT_PLACES = 12  # a figure with more decimals (a third, a seventh) is cut here and marked "…"


def exact(value: Decimal) -> str:
    """A Decimal with every digit it has and no exponent or trailing zeros: 89.45, 7, −0.5; a
    non-terminating quotient shows its first 12 decimals and "…" (0.657142857142…)."""
    text = format(value.normalize() if value == value.to_integral_value() else value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
        whole, _point, decimals = text.partition(".")
        if len(decimals) > EXACT_PLACES:
            text = f"{whole}.{decimals[:EXACT_PLACES]}…"
    return "0" if text in ("-0", "") else text.replace("-", "−")


_SYMBOLS = {"*": "×", "/": "÷", "-": "−", "+": "+", ">=": "≥", "<=": "≤", "==": "=", "!=": "≠",
            ">": ">", "<": "<"}
_PRECEDENCE = {"or": 1, "and": 2, "not": 3, "cmp": 4, "+": 5, "-": 5, "*": 6, "/": 6, "neg": 7}


def render(formula: Formula, env: Env | None, lang: str, names: Callable[[tuple], str] | None = None) -> str:
    """The formula with each operand written as its value (env given) or its name (env None)."""
    values: dict[int, Value] = {}
    if env is not None:
        _eval(formula.tree, env, lambda node, value: values.__setitem__(id(node), value))
    return _render(formula.tree, values if env is not None else None, lang, names)


def _render(node: tuple, values: dict[int, Value] | None, lang: str, names: Callable[[tuple], str] | None,
            parent: int = 0) -> str:
    kind = node[0]
    if kind in ("name", "call") and values is not None:
        return _wrap(show_value(values.get(id(node)), lang), values.get(id(node)), parent)
    if kind == "name":
        return names(node) if names else node[1]
    if kind == "call":
        if names:
            return names(node)
        return f"{node[1]}({', '.join(_render(a, None, lang, names) for a in node[2])})"
    if kind == "ref":
        return node[1]
    if kind == "num":
        return node[2]
    if kind in ("str", "date", "bool"):
        return show_value(node[1], lang)
    if kind == "neg":
        return "−" + _render(node[1], values, lang, names, _PRECEDENCE["neg"])
    if kind == "not":
        word = "非" if lang == "zh" else "not"  # the operator as the grammar spells it (_OPS reads 非 back)
        text = f"{word} {_render(node[1], values, lang, names, _PRECEDENCE['not'])}"
        return f"({text})" if parent > _PRECEDENCE["not"] else text
    if kind == "bin":
        mine = _PRECEDENCE[node[1]]
        right_parent = mine + 1 if node[1] in ("-", "/") else mine
        text = (f"{_render(node[2], values, lang, names, mine)} {_SYMBOLS[node[1]]} "
                f"{_render(node[3], values, lang, names, right_parent)}")
        return f"({text})" if parent > mine else text
    if kind == "cmp":
        mine = _PRECEDENCE["cmp"]
        text = _render(node[1], values, lang, names, mine + 1) + "".join(
            f" {_SYMBOLS[op]} {_render(b, values, lang, names, mine + 1)}" for op, b in node[2])
        return f"({text})" if parent > mine else text
    if kind in ("and", "or"):
        mine = _PRECEDENCE[kind]
        word = {"and": ("且", "and"), "or": ("或", "or")}[kind][0 if lang == "zh" else 1]  # operators, as parsed
        text = f" {word} ".join(_render(x, values, lang, names, mine + 1) for x in node[1])
        return f"({text})" if parent > mine else text
    return str(node)


def _wrap(text: str, value: Value, parent: int) -> str:
    """A negative operand inside arithmetic is written in parentheses: 88 + (−5)."""
    return f"({text})" if isinstance(value, Decimal) and value < 0 and parent >= _PRECEDENCE["+"] else text


def built(tree: tuple, text: str) -> Formula:
    """A formula gapctl builds itself (the default base and total), from a tree, unparsed."""
    return Formula(text, tree)
