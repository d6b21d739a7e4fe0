"""The methods `dataclasses` writes for each class, compiled once and kept beside gapctl's bytecode.

Why: `@dataclass` writes each class's `__init__`, `__repr__`, `__eq__` (and with slots, more) as Python source and
compiles it, every time the class is made: in every process, for every one of gapctl's ~150 dataclasses. Compiling
was ~24 ms of the ~90 ms a `gapctl score` spends importing (a run with one file edited takes ~0.35 s). The
bytecode of gapctl's own modules is kept in `__pycache__`; this keeps the bytecode of those generated methods there
too, in one file.

How: `install` puts `exec` in the `dataclasses` module's namespace (where `_create_fn` finds it before the builtin),
which compiles a text it was not given before as the builtin does (`dont_inherit`: no `from __future__` of this
module leaks in) and runs the code. Each text's code is kept by the text's hash; `save`, at exit, writes them to
`gapctl/__pycache__/dataclasses.<cache tag>.bin` after the bytecode's magic number, atomically, only when a text
was new (and the file is then the texts of this run and the last ones, at most `HELD`). A file of another Python,
an unreadable one, or a directory that cannot be written: the texts are compiled as before. Python's own rules for
bytecode hold: nothing is written when `sys.dont_write_bytecode` (PYTHONDONTWRITEBYTECODE) is set, and the file
has the same trust as the `.pyc` files beside it (who can write one can write the other). The code a text gives
depends only on the text and the Python, so a kept code is the code compiling would give.
"""

from __future__ import annotations

import hashlib
import marshal
import os
import sys
from types import CodeType
from typing import Any

HELD = 2000  # texts kept at most (a run makes ~250); past it, only the last run's are written

_CODES: dict[bytes, CodeType] = {}  # a text's hash → its code, made (or read) this run
_KEPT: dict[bytes, bytes] = {}  # a text's hash → its code marshalled, as the file holds it (read when asked for)
_USED: set[bytes] = set()
_NEW = False
_INSTALLED = False


def path() -> str:
    """Where the codes are kept: beside gapctl's bytecode, for this Python."""
    package = os.path.dirname(os.path.abspath(__file__))
    return os.path.join(package, "__pycache__", f"dataclasses.{sys.implementation.cache_tag}.bin")


def _magic() -> bytes:
    from importlib.util import MAGIC_NUMBER

    return MAGIC_NUMBER


def _exec(source: Any, globals: Any = None, locals: Any = None) -> None:
    """`exec` as `dataclasses` calls it, with each text compiled once."""
    global _NEW
    if not isinstance(source, str):
        exec(source, globals, locals)
        return
    key = hashlib.sha1(source.encode("utf-8", "surrogatepass"), usedforsecurity=False).digest()
    code = _CODES.get(key)
    if code is None:
        kept = _KEPT.get(key)
        try:
            code = marshal.loads(kept) if kept is not None else None
        except (ValueError, EOFError, TypeError):
            code = None
        if type(code) is not CodeType:
            code = compile(source, "<string>", "exec", dont_inherit=True)
            _NEW = True
        _CODES[key] = code
    _USED.add(key)
    exec(code, globals, locals)


def install() -> None:
    """Keep the methods `dataclasses` compiles from now on (once a process; nothing when something else already
    put an `exec` in its namespace)."""
    global _INSTALLED
    if _INSTALLED:
        return
    _INSTALLED = True
    import dataclasses

    if "exec" in vars(dataclasses):
        return
    _KEPT.update(_read())
    dataclasses.exec = _exec  # type: ignore[attr-defined]
    import atexit

    atexit.register(save)


def _read() -> dict[bytes, bytes]:
    """The file's codes, each still marshalled (a run uses half of them: ~250 of ~550)."""
    try:
        with open(path(), "rb") as kept:
            data = kept.read()
        magic = _magic()
        if not data.startswith(magic):
            return {}
        codes = marshal.loads(data[len(magic):])
    except (OSError, ValueError, EOFError, TypeError):
        return {}
    if not isinstance(codes, dict) or not all(type(k) is bytes and type(v) is bytes for k, v in codes.items()):
        return {}
    return codes


def save(explicit: bool = False) -> None:
    """Write the codes when a text was new this run (see the module's docstring); `explicit`: even when
    `sys.dont_write_bytecode` (as compileall writes bytecode whatever it says)."""
    global _NEW
    if not _NEW or sys.dont_write_bytecode and not explicit:
        return
    _NEW = False
    codes = {**_KEPT, **{key: marshal.dumps(code) for key, code in _CODES.items()}}
    if len(codes) > HELD:
        codes = {key: kept for key, kept in codes.items() if key in _USED}
    target = path()
    tmp = f"{target}.{os.getpid()}.tmp"
    try:
        with open(tmp, "wb") as out:
            out.write(_magic() + marshal.dumps(codes))
        os.replace(tmp, target)
    except (OSError, ValueError):
        try:
            os.unlink(tmp)
        except OSError:
            pass


def compile_package() -> int:
    """Make every dataclass of gapctl (each module imported, but `__main__`) and write their codes: what `./dev`
    does after compileall, so that the first command run has them too. The number of texts kept."""
    import importlib
    import pkgutil

    install()
    for found in pkgutil.walk_packages([os.path.dirname(os.path.abspath(__file__))], "gapctl."):
        if not found.name.endswith(".__main__"):
            importlib.import_module(found.name)
    save(explicit=True)
    return len(_KEPT | _CODES)


__all__ = ["compile_package", "install", "path", "save"]
