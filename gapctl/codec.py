"""Values to bytes and back in a format that cannot run code: the cache's and the workers' format.

Who calls it: `gapctl.data.cache` (`dumps`/`loads`) for every cache entry, and so `gapctl.scoring.outcomes`
(one observation file's outcome) and `gapctl.scoring.load` (a scheme or unit set read from disk).

What it guarantees: the bytes are MessagePack; decoding them builds only plain values
(None, bool, int, float, str, bytes, list, dict), `Decimal`, `date`, `datetime`, `Path`,
tuple, set and frozenset, references the caller resolves, and instances of gapctl's own
dataclasses, whose fields are set by name without calling `__init__` or any other method.
No class is named by the bytes except a dataclass defined in a `gapctl.` module, and no
code of the bytes' choosing runs: forged bytes can give wrong values, never a command.
That is why the cache signs its entries as well (HMAC, `gapctl.data.cache`).

Dataclasses are walked by field name, so a field added to `UnitScore` (or any other
dataclass) is carried without a change here; a value of a type not listed above raises
`CodecError` naming the field, which a test turns into a failure. Objects the caller asks
to be written as references (`refer`: the scheme, its indicators and rules, units, problem
kinds) are written as their id tuple and resolved against the live objects of the reading
run. A dataclass object met twice is written once and read back as one object (a unit set's
3,000 units share one SourceFile; a scheme's `index` points into its tree); a cycle raises
CodecError.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import importlib
import sys
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path, PurePath
from typing import Any

import msgpack

# extension type codes (MessagePack allows 0..127 for applications)
DECIMAL, TUPLE, DATE, DATETIME, PATH, OBJECT, SEEN, REFERENCE, SET, FROZENSET, BIGINT = range(1, 12)


class CodecError(ValueError):
    """A value that cannot be written (a type the format does not carry, a cycle) or bytes that
    cannot be read back with this code (another build's fields, a class that is not gapctl's)."""


Refer = Callable[[Any], "str | None"]  # an object's reference name, or None to write it out
Resolve = Callable[[str], Any]


def _fields(cls: type) -> tuple[str, ...]:
    names = _FIELDS.get(cls)
    if names is None:
        names = _FIELDS[cls] = tuple(f.name for f in dataclasses.fields(cls))
    return names


_FIELDS: dict[type, tuple[str, ...]] = {}


class _Encoder:
    def __init__(self, refer: Refer | None) -> None:
        self.refer = refer
        self.seen: dict[int, int] = {}      # id(obj) → its index, once written
        self.open: set[int] = set()         # dataclass objects being written (a cycle if met again)
        self.where: list[str] = []          # field names down to the value being written, for errors

    def pack(self, value: Any) -> bytes:
        try:
            return msgpack.packb(value, default=self.default, strict_types=True, use_bin_type=True,
                                 datetime=False)
        except OverflowError:
            raise CodecError(f"{self._path()}: an integer too large to encode") from None

    def _path(self) -> str:
        return ".".join(self.where) or "the value"

    def default(self, obj: Any) -> Any:
        if self.refer is not None:
            ref = self.refer(obj)
            if ref is not None:
                return msgpack.ExtType(REFERENCE, ref.encode())
        cls = type(obj)
        if cls is Decimal:
            return msgpack.ExtType(DECIMAL, str(obj).encode())
        if cls is tuple:
            return msgpack.ExtType(TUPLE, self.pack(list(obj)))
        if cls is dt.date:
            return msgpack.ExtType(DATE, obj.isoformat().encode())
        if cls is dt.datetime:
            return msgpack.ExtType(DATETIME, obj.isoformat().encode())
        if isinstance(obj, PurePath):
            return msgpack.ExtType(PATH, str(obj).encode("utf-8", "surrogateescape"))
        if cls is set or cls is frozenset:
            return msgpack.ExtType(SET if cls is set else FROZENSET, self.pack(list(obj)))
        if cls is int or cls is bool:  # only an int msgpack refused (too large) comes here
            return msgpack.ExtType(BIGINT, str(obj).encode())
        if dataclasses.is_dataclass(obj) and cls.__module__.startswith("gapctl."):
            return self.object(obj, cls)
        raise CodecError(f"{self._path()}: cannot encode a {cls.__module__}.{cls.__qualname__}")

    def object(self, obj: Any, cls: type) -> msgpack.ExtType:
        key = id(obj)
        index = self.seen.get(key)
        if index is not None:
            return msgpack.ExtType(SEEN, msgpack.packb(index))
        if key in self.open:
            raise CodecError(f"{self._path()}: a cycle through a {cls.__qualname__}")
        self.open.add(key)
        names = _fields(cls)
        values = [f"{cls.__module__}:{cls.__qualname__}"]
        values.extend(getattr(obj, name) for name in names)
        try:
            data = self.pack(values)
        except CodecError:
            self._locate(cls, names, values[1:])  # raises, naming the field
            raise
        finally:
            self.open.discard(key)
        self.seen[key] = len(self.seen)  # numbered when finished, as the decoder numbers them
        return msgpack.ExtType(OBJECT, data)

    def _locate(self, cls: type, names: tuple[str, ...], values: list[Any]) -> None:
        """Pack each field on its own to say which one cannot be encoded (the slow path of an error)."""
        for name, value in zip(names, values, strict=True):
            self.where.append(f"{cls.__qualname__}.{name}")
            try:
                self.pack(value)
            finally:
                self.where.pop()


class _Decoder:
    def __init__(self, resolve: Resolve | None) -> None:
        self.resolve = resolve
        self.seen: list[Any] = []

    def unpack(self, data: bytes) -> Any:
        return msgpack.unpackb(data, ext_hook=self.hook, strict_map_key=False, raw=False, use_list=True)

    def hook(self, code: int, data: bytes) -> Any:
        # in the order of how often they occur in an outcome
        if code == DECIMAL:
            return Decimal(data.decode())
        if code == REFERENCE:
            if self.resolve is None:
                raise CodecError("a reference, and nothing to resolve it against")
            return self.resolve(data.decode())
        if code == OBJECT:
            return self.object(data)
        if code == TUPLE:
            return tuple(self.unpack(data))
        if code == SEEN:
            return self.seen[msgpack.unpackb(data)]
        if code == DATE:
            return dt.date.fromisoformat(data.decode())
        if code == PATH:
            return Path(data.decode("utf-8", "surrogateescape"))
        if code == FROZENSET:
            return frozenset(self.unpack(data))
        if code == SET:
            return set(self.unpack(data))
        if code == DATETIME:
            return dt.datetime.fromisoformat(data.decode())
        if code == BIGINT:
            return int(data.decode())
        raise CodecError(f"unknown extension type {code}")

    def object(self, data: bytes) -> Any:
        name, *values = self.unpack(data)
        cls, names, slots = _class(name)
        if len(values) != len(names):
            raise CodecError(f"{cls.__qualname__}: {len(values)} fields written, {len(names)} known to this gapctl")
        obj = object.__new__(cls)
        if slots:
            for field_name, value in zip(names, values, strict=True):
                object.__setattr__(obj, field_name, value)
        else:
            obj.__dict__.update(zip(names, values, strict=True))
        self.seen.append(obj)
        return obj


_CLASSES: dict[str, tuple[type, tuple[str, ...], bool]] = {}


def _class(name: str) -> tuple[type, tuple[str, ...], bool]:
    """The gapctl dataclass `module:qualname` names, its fields, and whether it has slots; only
    dataclasses of gapctl's own modules are ever looked up."""
    found = _CLASSES.get(name)
    if found is not None:
        return found
    module_name, _, qualname = str(name).partition(":")
    if not (module_name == "gapctl" or module_name.startswith("gapctl.")) or "__main__" in module_name:
        raise CodecError(f"{name}: not a gapctl class")  # (importing gapctl.__main__ would run the CLI)
    module = sys.modules.get(module_name) or importlib.import_module(module_name)
    cls: Any = module
    for part in qualname.split("."):
        cls = getattr(cls, part, None)
    if not (isinstance(cls, type) and dataclasses.is_dataclass(cls) and cls.__module__ == module_name):
        raise CodecError(f"{name}: not a gapctl dataclass")
    found = _CLASSES[name] = (cls, _fields(cls), "__dict__" not in dir(cls) and hasattr(cls, "__slots__"))
    return found


def dumps(value: Any, refer: Refer | None = None) -> bytes:
    """`value` as MessagePack; objects for which `refer` gives a name are written as that name.

    `refer` is called for every value msgpack does not write by itself: keep it to a dict lookup.
    Raises CodecError for a value it cannot carry (naming the field).
    """
    return _Encoder(refer).pack(value)


def loads(data: bytes, resolve: Resolve | None = None) -> Any:
    """The value `dumps` wrote; references are turned back into objects by `resolve`.

    Raises CodecError for bytes this code cannot read (corrupt, another build's, not gapctl's).
    """
    try:
        return _Decoder(resolve).unpack(data)
    except CodecError:
        raise
    except (msgpack.UnpackException, ValueError, TypeError, KeyError, IndexError, AttributeError, ArithmeticError,
            RecursionError) as err:
        raise CodecError(f"unreadable: {type(err).__name__}: {err}") from None


__all__ = ["CodecError", "dumps", "loads"]
