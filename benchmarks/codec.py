"""How fast the cache's format is: pickle (before issue #16), MessagePack (gapctl.codec) and JSON.

    python benchmarks/codec.py [ROUND]      # default: the 3,000-unit benchmark round

Every observation file's outcome (what `gapctl score` caches) and the round's scheme and unit
set are written and read back by each format, in one process; prints µs per outcome, bytes
per outcome, and the time to read the unit set and scheme (what a warm run reads first).
JSON is a sketch of the same design (tags as one-key objects, read back by an object_hook);
it is not used by gapctl and is here only to be measured.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import json
import pickle
import sys
import time
from decimal import Decimal
from pathlib import Path, PurePath
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from gapctl import codec  # noqa: E402
from gapctl.data import cache  # noqa: E402
from gapctl.scoring import outcomes  # noqa: E402


def pickle_dumps(value: Any, refer: Any) -> bytes:
    buffer = io.BytesIO()
    pickler = pickle.Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL)
    pickler.persistent_id = refer  # type: ignore[method-assign]
    pickler.dump(value)
    return buffer.getvalue()


def pickle_loads(data: bytes, resolve: Any) -> Any:
    unpickler = pickle.Unpickler(io.BytesIO(data))
    unpickler.persistent_load = resolve  # type: ignore[method-assign]
    return unpickler.load()


def json_dumps(value: Any, refer: Any) -> bytes:
    seen: dict[int, int] = {}

    def walk(obj: Any) -> Any:
        cls = type(obj)
        if cls in (str, int, bool, float) or obj is None:
            return obj
        if cls is list:
            return [walk(x) for x in obj]
        ref = refer(obj)
        if ref is not None:
            return {"$r": ref}
        if cls is dict:
            if all(type(k) is str and not k.startswith("$") for k in obj):
                return {k: walk(v) for k, v in obj.items()}
            return {"$m": [[walk(k), walk(v)] for k, v in obj.items()]}
        if cls is Decimal:
            return {"$d": str(obj)}
        if cls is tuple:
            return {"$t": [walk(x) for x in obj]}
        if cls is dt.date:
            return {"$a": obj.isoformat()}
        if isinstance(obj, PurePath):
            return {"$p": str(obj)}
        if cls in (set, frozenset):
            return {"$s": [walk(x) for x in obj]}
        if dataclasses.is_dataclass(obj):
            if id(obj) in seen:
                return {"$o": seen[id(obj)]}
            out = {"$c": f"{cls.__module__}:{cls.__qualname__}",
                   "v": [walk(getattr(obj, f.name)) for f in dataclasses.fields(obj)]}
            seen[id(obj)] = len(seen)
            return out
        raise TypeError(cls)
    return json.dumps(walk(value), ensure_ascii=False, separators=(",", ":")).encode()


def json_loads(data: bytes, resolve: Any) -> Any:
    seen: list[Any] = []

    def hook(d: dict[str, Any]) -> Any:
        if len(d) > 2 or not d:
            return d
        key = next(iter(d))
        if key[:1] != "$":
            return d
        v = d[key]
        if key == "$d":
            return Decimal(v)
        if key == "$t":
            return tuple(v)
        if key == "$r":
            return resolve(v)
        if key == "$c":
            cls, names, slots = codec._class(v)
            obj = object.__new__(cls)
            if slots:
                for n, x in zip(names, d["v"], strict=True):
                    object.__setattr__(obj, n, x)
            else:
                obj.__dict__.update(zip(names, d["v"], strict=True))
            seen.append(obj)
            return obj
        if key == "$o":
            return seen[v]
        if key == "$m":
            return {(tuple(k) if type(k) is list else k): x for k, x in v}
        if key == "$a":
            return dt.date.fromisoformat(v)
        if key == "$p":
            return Path(v)
        if key == "$s":
            return set(v)
        return d
    return json.loads(data, object_hook=hook)


FORMATS = {"pickle (before)": (pickle_dumps, pickle_loads), "msgpack (gapctl.codec)": (codec.dumps, codec.loads),
           "json (sketch)": (json_dumps, json_loads)}


def main() -> None:
    round_dir = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "bench-data/yaml-u3000-k60-s1/rounds/bench"
    checked = outcomes.check(round_dir, use_cache=False)
    plan = checked.plans[0]
    items = plan.outcomes
    kinds = cache.problem_kinds()
    objects = plan.objects
    by_id = cache.problem_kind_ids()

    def kind_ids(obj: Any) -> str | None:
        return by_id.get(id(obj))
    repo = checked.loaded.repository
    definitions = [(obj, []) for obj in [*repo.schemes.values(), *repo.unit_sets.values()]]
    print(f"{round_dir}: {len(items):,} outcomes\n")
    print("| format | write µs/outcome | read µs/outcome | bytes/outcome | read scheme + unit set (ms) |")
    print("|---|---:|---:|---:|---:|")
    for name, (dumps, loads) in FORMATS.items():
        payloads = []
        start = time.perf_counter()
        for outcome in items:
            own, refs = id(outcome.src), plan.references
            payloads.append(dumps(outcome, lambda obj, own=own, refs=refs: "F" if id(obj) == own
                                  else refs.get(id(obj))))
        written = time.perf_counter() - start
        start = time.perf_counter()
        for outcome, payload in zip(items, payloads, strict=True):
            src = outcome.src
            loads(payload, lambda ref, src=src: src if ref == "F" else objects[ref])
        read = time.perf_counter() - start
        blobs = [dumps(d, kind_ids) for d in definitions]
        start = time.perf_counter()
        for blob in blobs:
            loads(blob, lambda ref: kinds[ref])
        definitions_read = time.perf_counter() - start
        size = sum(map(len, payloads)) / len(payloads)
        print(f"| {name} | {written / len(items) * 1e6:.0f} | {read / len(items) * 1e6:.0f} | {size:,.0f} | "
              f"{definitions_read * 1e3:.1f} |")


if __name__ == "__main__":
    main()
