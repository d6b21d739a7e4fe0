#!/usr/bin/env python3
"""Per-file cost of the YAML readers gapctl could use, on the observation files of a round.

    python benchmarks/parsers.py bench-data/yaml-u3000-k60-s1/rounds/bench [--limit 1000] [--repeat 3]

Prints a Markdown table: milliseconds per file (best of --repeat passes over the files), the
ratio to PyYAML's CSafeLoader, and whether the reader gives gapctl's data (YAML 1.1 typing,
Decimal numbers). Rows for parsers that are not installed are left out (rapidyaml: `ryml`).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def _ryml_walk() -> Callable[[bytes], Any] | None:
    """rapidyaml's tree walked from Python into dicts and lists, typed as gapctl types plain values."""
    try:
        import ryml
    except ImportError:
        return None
    from gapctl.data.sources import _composer, _plain

    _composer()
    quoted = ryml.VALQUO | ryml.VAL_LITERAL | ryml.VAL_FOLDED
    none = ryml.NONE

    def read(raw: bytes) -> Any:
        tree = ryml.parse_in_arena(raw)
        kind, key, val, first, after = tree.type, tree.key, tree.val, tree.first_child, tree.next_sibling

        def walk(node: int) -> Any:
            flags = kind(node)
            if flags & ryml.MAP:
                out, child = {}, first(node)
                while child != none:
                    out[bytes(key(child)).decode()] = walk(child)
                    child = after(child)
                return out
            if flags & ryml.SEQ:
                items, child = [], first(node)
                while child != none:
                    items.append(walk(child))
                    child = after(child)
                return items
            text = bytes(val(node)).decode()
            return text if flags & quoted else _plain(text)
        return walk(tree.root_id())
    return read


def readers() -> list[tuple[str, Callable[[bytes], Any], str]]:
    import yaml

    from gapctl.data import fast_yaml
    from gapctl.data.sources import SourceFile, _parse_yaml, read_file

    out: list[tuple[str, Callable[[bytes], Any], str]] = [
        ("PyYAML CSafeLoader (`yaml.load`, the benchmark's reference)",
         lambda raw: yaml.load(raw.decode(), Loader=yaml.CSafeLoader), "no: binary floats, dates as date"),
        ("gapctl, libyaml path (`yaml.compose` + gapctl's walker)",
         lambda raw: _parse_yaml(SourceFile(Path("x.yaml"), "x.yaml"), raw.decode()).data, "yes (the definition)"),
    ]
    if fast_yaml.available():
        import yaml_rs

        out += [
            ("yaml-rs alone (`yaml_rs.loads`)", lambda raw: yaml_rs.loads(raw.decode(), parse_datetime=False),
             "no: YAML 1.2 typing, binary floats"),
            ("gapctl, fast path (subset and word checks + yaml-rs + Decimal)",
             lambda raw: fast_yaml.read(raw, raw.decode()), "yes (tests/data/test_fast_yaml.py)"),
            ("gapctl `read_file` as `score` calls it (fast path, libyaml when refused)",
             lambda raw: read_file(Path("x.yaml"), raw).data, "yes"),
        ]
    ryml_read = _ryml_walk()
    if ryml_read is not None:
        out.append(("rapidyaml tree (`ryml.parse_in_arena`) walked in Python", ryml_read,
                    "typing yes (raw text and styles); not checked for syntax"))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("round", type=Path)
    parser.add_argument("--limit", type=int, default=1000, help="files read (the first N by name)")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    files = sorted(p for p in (args.round / "observations").iterdir() if p.suffix in (".yaml", ".yml"))
    data = [p.read_bytes() for p in files[:args.limit]]
    rows = []
    for name, read, same in readers():
        for raw in data[:50]:  # warm up: imports, caches of words and patterns
            read(raw)
        best = min(_timed(read, data) for _ in range(args.repeat))
        rows.append((name, best / len(data) * 1000, same))
    from gapctl.data import fast_yaml
    refused = sum(1 for raw in data if fast_yaml.available() and fast_yaml.read(raw, raw.decode()) is None)
    reference = rows[0][1]
    print(f"{len(data):,} files of {args.round} ({sum(map(len, data)) / len(data) / 1024:.1f} KB each), "
          f"best of {args.repeat}; {os.cpu_count()} CPUs, Python {sys.version.split()[0]}\n")
    print("| reader | ms per file | × CSafeLoader | gapctl's data? |")
    print("|---|---:|---:|---|")
    for name, ms, same in rows:
        print(f"| {name} | {ms:.2f} | {ms / reference:.2f} | {same} |")
    print(f"\nThe fast path refused {refused:,} of these {len(data):,} files.")


def _timed(read: Callable[[bytes], Any], data: list[bytes]) -> float:
    start = time.perf_counter()
    for raw in data:
        read(raw)
    return time.perf_counter() - start


if __name__ == "__main__":
    main()
