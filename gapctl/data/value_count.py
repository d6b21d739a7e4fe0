"""How many values a data file holds, found before it is parsed.

Composing YAML keeps every node at once (~2.5 KB each with their marks: 4.56 million values took
12 GB), and tomllib builds every value; so gapctl.data.sources counts first, and only for a text long
enough to hold more than the limit (a value takes at least ~1.5 characters, "[:,:]"):

- YAML: libyaml's stream of events, counted and dropped as they come (~1 µs a value), stopping at
  the limit; mapping keys are not counted, as the walker that builds the data counts;
- TOML: a lower bound without parsing: every `key =` assigns one value and every comma outside
  strings and comments follows one (an array item, or an inline table's entry, itself a value),
  so a file refused really holds more than the limit.
"""

from __future__ import annotations

import re
from typing import Any

_TOML_SKIPPED = re.compile(r'"""[\s\S]*?"""|\'\'\'[\s\S]*?\'\'\'|"(?:[^"\\\n]|\\.)*"|\'[^\'\n]*\'|#[^\n]*')


def toml_values_at_least(text: str) -> int:
    """A lower bound on the values a TOML text holds, without parsing it: every `key =` assigns one,
    and every comma outside strings and comments follows an array item or an inline table's key."""
    bare = _TOML_SKIPPED.sub("s", text)
    return max(bare.count("="), bare.count(","))


def yaml_values_over(text: str, limit: int, parser_class: Any) -> bool:
    """Whether a YAML text holds more than `limit` values (mapping keys not counted, as gapctl.data.sources'
    walker counts), from the stream of events of `parser_class` (libyaml's parser): constant memory,
    nothing composed."""
    import yaml
    from yaml.events import (
        AliasEvent,
        MappingEndEvent,
        MappingStartEvent,
        ScalarEvent,
        SequenceEndEvent,
        SequenceStartEvent,
        StreamEndEvent,
    )

    parser = parser_class(text)
    count = 0
    keys: list[int] = []  # per open collection: 0 a sequence, 1 a mapping's key next, 2 its value next
    try:
        while True:
            event = parser.get_event()
            cls = event.__class__
            if cls is ScalarEvent or cls is SequenceStartEvent or cls is MappingStartEvent or cls is AliasEvent:
                state = keys[-1] if keys else 0
                if state == 1:
                    keys[-1] = 2
                else:
                    if state == 2:
                        keys[-1] = 1
                    count += 1
                    if count > limit:
                        return True
                if cls is SequenceStartEvent:
                    keys.append(0)
                elif cls is MappingStartEvent:
                    keys.append(1)
            elif cls is SequenceEndEvent or cls is MappingEndEvent:
                keys.pop()
            elif cls is StreamEndEvent or event is None:
                return False
    except yaml.YAMLError:  # the parse proper reports it, with its position
        return False
    finally:
        parser.dispose()
