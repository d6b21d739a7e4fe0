"""YAML 1.1's implicit types of plain scalars, as PyYAML's resolver has them: which pattern types `yes`, `010`,
`1.10` or `2022-01-01`, by the scalar's first character, in the order PyYAML tries them.

gapctl types plain scalars itself (`gapctl.data.sources._plain`) with these patterns, both on libyaml's path and
to check the fast parser's typing (`gapctl.data.fast_yaml`). They are kept here rather than read from
`yaml.resolver.Resolver`: importing PyYAML (its reader compiles a pattern over all of Unicode) cost a run that
parses every file with the fast parser ~12 ms for nothing. `tests/data/test_yaml11.py` holds them equal to
PyYAML's, pattern for pattern.
"""

from __future__ import annotations

import re
from typing import Any

_TAG = "tag:yaml.org,2002:"

# (tag, pattern, re flags, first characters), in the order of PyYAML's resolver.py (its `add_implicit_resolver`s)
PATTERNS: tuple[tuple[str, str, int, str | list[str]], ...] = (
    ("bool", r'''^(?:yes|Yes|YES|no|No|NO
                    |true|True|TRUE|false|False|FALSE
                    |on|On|ON|off|Off|OFF)$''', re.X, "yYnNtTfFoO"),
    ("float", r'''^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?
                    |\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?
                    |[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*
                    |[-+]?\.(?:inf|Inf|INF)
                    |\.(?:nan|NaN|NAN))$''', re.X, "-+0123456789."),
    ("int", r'''^(?:[-+]?0b[0-1_]+
                    |[-+]?0[0-7_]+
                    |[-+]?(?:0|[1-9][0-9_]*)
                    |[-+]?0x[0-9a-fA-F_]+
                    |[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$''', re.X, "-+0123456789"),
    ("merge", r'^(?:<<)$', 0, "<"),
    ("null", r'''^(?: ~
                    |null|Null|NULL
                    | )$''', re.X, ["~", "n", "N", ""]),
    ("timestamp", r'''^(?:[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]
                    |[0-9][0-9][0-9][0-9] -[0-9][0-9]? -[0-9][0-9]?
                     (?:[Tt]|[ \t]+)[0-9][0-9]?
                     :[0-9][0-9] :[0-9][0-9] (?:\.[0-9]*)?
                     (?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)$''', re.X, "0123456789"),
    ("value", r'^(?:=)$', 0, "="),
    ("yaml", r'^(?:!|&|\*)$', 0, "!&*"),
)

BY_FIRST: dict[str, list[tuple[str, Any]]] = {}  # `implicit()`, filled on first use


def implicit() -> dict[str, list[tuple[str, Any]]]:
    """First character of a plain scalar → [(tag, compiled pattern)] in the order they are tried (compiled once)."""
    if not BY_FIRST:
        for name, pattern, flags, first in PATTERNS:
            compiled = re.compile(pattern, flags)
            for char in first:
                BY_FIRST.setdefault(char, []).append((_TAG + name, compiled))
    return BY_FIRST
