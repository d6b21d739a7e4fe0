"""The layout of gapctl/ stays true: packages by stage, imports pointing one way.

files → data → scheme → scoring → io, review → process, report → cli. Every `import` in
gapctl/ is read with `ast`, wherever it is written (at the top of a module, inside a function for
a lazy import, or under `if TYPE_CHECKING:`), and the package it names must be one the importing
package may use (`MAY_IMPORT`). ARCHITECTURE.md says why each package sits where it does.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.conftest import ROOT

PACKAGE = ROOT / "gapctl"

# The leaf modules at the top of gapctl/: words, figures, escaping, problem kinds. They import
# only each other (and the standard library or third-party packages).
BASE = {"i18n", "figures", "escape", "textwidth", "names", "labels", "problems", "problem_formats", "codec", "memo",
        "classcode", "collector"}
# gapctl/api.py is the scoring stage's public face (its path and names are kept: Dask pickles them).
IN_SCORING = {"api"}
# What runs gapctl rather than being used by it: the package root (its lazy public names), `python -m
# gapctl` and the reference generator `python -m gapctl.docs`.
ENTRY = {"__main__", "docs"}

_LOWER = {"base", "data", "scheme", "scoring"}
MAY_IMPORT: dict[str, set[str]] = {
    "base": set(),
    "data": {"base"},
    "scheme": {"base", "data"},
    "scoring": {"base", "data", "scheme"},
    "io": _LOWER,
    "review": _LOWER,
    "process": _LOWER | {"io", "review"},
    "report": _LOWER | {"review"},
    "cli": _LOWER | {"io", "review", "process", "report"},
    "entry": _LOWER | {"io", "review", "process", "report", "cli"},
}
PACKAGES = set(MAY_IMPORT) - {"base", "entry"}


def layer(module: str) -> str:
    """The layer of a module named `gapctl.x.y`; a module in no layer fails the test."""
    parts = module.split(".")
    if parts == ["gapctl"]:
        return "entry"
    if parts[1] in PACKAGES:
        return parts[1]
    if parts[1] in BASE:
        return "base"
    if parts[1] in IN_SCORING:
        return "scoring"
    if parts[1] in ENTRY:
        return "entry"
    raise AssertionError(f"{module} is in no package of the layout: move it into one, or add it to BASE "
                         "in tests/test_layout.py and to ARCHITECTURE.md's code map")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def is_module(name: str) -> bool:
    relative = Path(*name.split("."))
    return (ROOT / relative).with_suffix(".py").is_file() or (ROOT / relative / "__init__.py").is_file()


def imported(path: Path) -> list[tuple[int, str]]:
    """(line, module) for every gapctl module `path` imports, lazily or not. `from gapctl.x import y`
    names the module `gapctl.x.y` when y is one, else `gapctl.x`; `from gapctl import __version__`
    names nothing (the version is everyone's)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    here = module_name(path).split(".")
    package = here if path.name == "__init__.py" else here[:-1]
    out: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = ".".join(package[:len(package) - node.level + 1] + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            for alias in node.names:
                if is_module(f"{base}.{alias.name}"):
                    out.append((node.lineno, f"{base}.{alias.name}"))
                elif not (base == "gapctl" and alias.name == "__version__"):
                    out.append((node.lineno, base))
    return [(line, name) for line, name in out if name == "gapctl" or name.startswith("gapctl.")]


def forbidden_imports(root: Path = PACKAGE) -> list[str]:
    found = []
    for path in sorted(root.rglob("*.py")):
        if "_shipped" in path.parts:
            continue
        source = layer(module_name(path))
        for line, target in imported(path):
            to = layer(target)
            if to != source and to not in MAY_IMPORT[source]:
                found.append(f"{path.relative_to(ROOT)}:{line}: {source} imports {to} ({target}); "
                             f"{source} may import {', '.join(sorted(MAY_IMPORT[source])) or 'nothing of gapctl'}")
    return found


def test_imports_point_one_way() -> None:
    found = forbidden_imports()
    assert not found, "imports against the layout (see ARCHITECTURE.md):\n" + "\n".join(found)


def test_the_allowed_directions_have_no_cycle() -> None:
    """Each layer's allowed imports are strictly below it: a topological order exists."""
    done: set[str] = set()
    while len(done) < len(MAY_IMPORT):
        ready = {name for name, uses in MAY_IMPORT.items() if name not in done and uses <= done}
        assert ready, f"a cycle among {sorted(set(MAY_IMPORT) - done)}"
        done |= ready


def test_every_module_has_a_layer() -> None:
    for path in PACKAGE.rglob("*.py"):
        if "_shipped" not in path.parts:
            layer(module_name(path))


@pytest.mark.parametrize("package", sorted(PACKAGES))
def test_each_package_says_what_it_owns_and_may_import(package: str) -> None:
    """The package's docstring is its entry in the code map; only gapctl.cli's __init__ runs code
    (it imports the commands so that they register), the others stay empty (start-up time)."""
    init = PACKAGE / package / "__init__.py"
    tree = ast.parse(init.read_text(encoding="utf-8"))
    doc = ast.get_docstring(tree) or ""
    assert "May import" in doc and ("Owns" in doc or "owns" in doc), f"{init}: say what it owns and may import"
    if package != "cli":
        assert len(tree.body) == 1, f"{init}: keep it to its docstring (importing a module imports its package)"


def test_a_forbidden_import_is_caught(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The check itself: a lazy import of the report from the data layer is reported, with its line."""
    fake = tmp_path / "gapctl"
    (fake / "data").mkdir(parents=True)
    (fake / "report").mkdir()
    for init in ("__init__.py", "data/__init__.py", "report/__init__.py", "report/build.py"):
        (fake / init).write_text('"""x"""\n')
    (fake / "data" / "tree.py").write_text("def f():\n    from gapctl.report import build\n    return build\n")
    monkeypatch.setattr("tests.test_layout.ROOT", tmp_path)
    assert forbidden_imports(fake) == ["gapctl/data/tree.py:2: data imports report (gapctl.report.build); "
                                       "data may import base"]
