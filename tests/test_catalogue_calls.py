"""Messages reach the catalogue: `./dev i18n` (Babel) extracts `_("…")`, `N_("…")` and `in_lang("…", lang)`
only where the text is a literal outside an f-string, so a call written inside `f"{in_lang('…', lang)}"` or
with a computed text would print English in a Chinese report without any test noticing."""

from __future__ import annotations

import ast

import pytest

from tests.conftest import ROOT

CALLS = {"_", "N_", "in_lang"}
# the output modules converted to the catalogue: no inline (Chinese, English) pairs left in them
CONVERTED = ["gapctl/scoring/explain.py", "gapctl/review/diff_view.py", "gapctl/scoring/scoreboard.py",
             "gapctl/labels.py", "gapctl/report/markdown.py", "gapctl/report/html.py", "gapctl/report/svg.py",
             "gapctl/report/build.py",
             "gapctl/report/document.py", "gapctl/report/word.py", "gapctl/report/pdf.py"]


def _name(call: ast.Call) -> str | None:
    return call.func.id if isinstance(call.func, ast.Name) else None


def _calls_in_fstrings(tree: ast.AST) -> list[int]:
    return [node.lineno for fstring in ast.walk(tree) if isinstance(fstring, ast.JoinedStr)
            for node in ast.walk(fstring) if isinstance(node, ast.Call) and _name(node) in CALLS]


@pytest.mark.parametrize("path", sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "gapctl").rglob("*.py")))
def test_catalogue_calls_are_extractable(path):
    tree = ast.parse((ROOT / path).read_text(encoding="utf-8"))
    inside = _calls_in_fstrings(tree)
    assert not inside, f"{path}:{inside[0]}: a catalogue call inside an f-string is not extracted; hoist it"
    if path in CONVERTED:
        computed = [node.lineno for node in ast.walk(tree) if isinstance(node, ast.Call) and _name(node) in CALLS
                    and node.args and not isinstance(node.args[0], ast.Constant)
                    and not (_name(node) == "in_lang" and isinstance(node.args[0], ast.Subscript | ast.Name))]
        assert not computed, f"{path}:{computed[0]}: a catalogue call with a computed text is not extracted"


@pytest.mark.parametrize("path", CONVERTED)
def test_converted_modules_have_no_inline_pairs(path):
    """`"扣分理由" if zh else "Reason"` belongs in the catalogue (Chinese in code only as data or comments)."""
    file = ROOT / path
    if not file.exists():
        pytest.skip(f"{path} does not exist")
    tree = ast.parse(file.read_text(encoding="utf-8"))
    pairs = [node.lineno for node in ast.walk(tree) if isinstance(node, ast.IfExp)
             and any(isinstance(side, ast.Constant) and isinstance(side.value, str)
                     and any("\u4e00" <= ch <= "\u9fff" for ch in side.value) for side in (node.body, node.orelse))]
    assert not pairs, f"{path}:{pairs[0]}: a Chinese/English pair in code; use in_lang with an English msgid"
