"""The methods @dataclass compiles for each class are kept beside gapctl's bytecode (gapctl.classcode): a process
that finds them compiles none, and the classes are what compiling would make."""

from __future__ import annotations

import dataclasses
import marshal
import subprocess
import sys
from pathlib import Path

import pytest

from gapctl import classcode
from tests.conftest import ROOT

SOURCE = ("import dataclasses\n@dataclasses.dataclass(slots=True)\nclass Point:\n    x: int\n"
          "    y: list = dataclasses.field(default_factory=list)\n")


def test_gapctl_installs_it_before_its_classes_are_made() -> None:
    assert vars(dataclasses).get("exec") is classcode._exec


def test_a_class_made_through_it_is_the_class_compiling_makes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Its methods' code is the builtin's, compiled without this module's `from __future__ import annotations` (the
    annotations of __init__ are the types, not their names)."""
    import hashlib

    texts: list[str] = []

    def watched(source, globals=None, locals=None):  # noqa: A002  (exec's own names)
        texts.append(source)
        classcode._exec(source, globals, locals)
    monkeypatch.setattr(dataclasses, "exec", watched)
    made: dict = {}
    exec(compile(SOURCE, "<test>", "exec", dont_inherit=True), made)  # (no `from __future__` of this module)
    point = made["Point"](1)
    assert (point.x, point.y, repr(point)) == (1, [], "Point(x=1, y=[])")
    assert made["Point"].__init__.__annotations__ == {"x": int, "y": list, "return": None}
    assert texts
    for text in texts:
        key = hashlib.sha1(text.encode(), usedforsecurity=False).digest()
        assert classcode._CODES[key] == compile(text, "<string>", "exec", dont_inherit=True)


def test_codes_are_written_read_back_and_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    kept = tmp_path / "dataclasses.bin"
    monkeypatch.setattr(classcode, "path", lambda: str(kept))
    monkeypatch.setattr(classcode, "_CODES", {})
    monkeypatch.setattr(classcode, "_KEPT", {})
    monkeypatch.setattr(classcode, "_USED", set())
    monkeypatch.setattr(classcode, "_NEW", False)
    classcode._exec("a = 1\n", {}, {})
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    classcode.save()
    assert not kept.exists()                                 # PYTHONDONTWRITEBYTECODE: nothing written
    classcode.save(explicit=True)                            # unless asked for (./dev, after compileall)
    read = classcode._read()
    assert [marshal.loads(code) for code in read.values()] == [compile("a = 1\n", "<string>", "exec",
                                                                        dont_inherit=True)]
    kept.write_bytes(b"\x00\x00\x00\x00" + kept.read_bytes()[4:])  # another Python's magic number: not read
    assert classcode._read() == {}
    kept.write_bytes(classcode._magic() + marshal.dumps({b"k": 1}))  # not codes: not read
    assert classcode._read() == {}
    monkeypatch.setattr(classcode, "HELD", 2)
    for n in range(3):
        classcode._exec(f"b = {n}\n", {}, {})
    monkeypatch.setattr(classcode, "_USED", set(list(classcode._CODES)[-2:]))
    classcode.save(explicit=True)
    assert len(classcode._read()) == 2                       # past HELD: only what this run used


def test_a_process_that_finds_them_compiles_none() -> None:
    """After `./dev`'s step (compile_package), a new process makes gapctl's classes without compiling a text."""
    env = {"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}
    subprocess.run([sys.executable, "-c", "from gapctl import classcode; classcode.compile_package()"],
                   cwd=ROOT, env=env, check=True)
    probe = ("import gapctl.scoring.outcomes, gapctl.cli; from gapctl import classcode; "
             "print(classcode._NEW, len(classcode._CODES))")
    out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, env=env, check=True, capture_output=True, text=True)
    new, made = out.stdout.split()
    assert new == "False" and int(made) > 100
