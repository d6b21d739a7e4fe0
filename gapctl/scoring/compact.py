"""One observation file's outcome as flat MessagePack: what the cache stores and workers send back.

Who calls it: `gapctl.scoring.outcomes` (`dump_outcome`, `load_outcome`), so the cache, the forked pool and
`gapctl.scoring.pipeline` (a Dask cluster) all carry outcomes in this form.

Why not `gapctl.codec` alone: an outcome written by the general codec is a tree of extension
types (every dataclass, Decimal and tuple its own nested MessagePack), and reading it calls a
Python hook for each of them, ~60 per file: most of a warm `gapctl score`. Here the parts every
outcome has (its unit, measures, progress counts, and its unit's summary score: the figures,
the section leaves and ranked nodes, see `gapctl.scoring.score.summarise`) are plain arrays,
strings and numbers, Decimals as their exact text, read by one `msgpack.unpackb` without hooks
and built into the same objects directly. Whatever is not in that common shape — problems,
evidence files, a field with a value other than its default, a leaf that carries more than its
points, a field added to `UnitScore` later — goes into a `rest` written by `gapctl.codec` and
is set last, so every field is carried, the common ones fast. Reading builds only plain values,
Decimals and gapctl's dataclasses; bytes of another shape raise `CodecError`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import msgpack

from gapctl import codec
from gapctl.scoring.score import (
    SHARED_FIGURES,
    ZERO,
    ExternalShare,
    LeafScore,
    LeafSummary,
    NodeScore,
    UnitScore,
    figure_of,
)

FORMAT = "o1"  # the first element of every payload; a payload of another form is not read
_DECIMALS = ("applicable", "earned", "base", "bonus_raw", "bonus", "penalty", "external", "total",
             "performance_points", "passdown", "total_raw", "own")
_STRINGS = ("pending", "flags")  # lists of str
_FAST = {"unit", "scheme", "tree", "leaves", "source", "detailed", "components", "externals", *_DECIMALS, *_STRINGS}


def _defaults(cls: type) -> list[tuple[str, Any]]:
    out = []
    for f in dataclasses.fields(cls):
        if f.default is not dataclasses.MISSING:
            out.append((f.name, f.default))
        elif f.default_factory is not dataclasses.MISSING:
            out.append((f.name, f.default_factory()))
        else:
            out.append((f.name, dataclasses.MISSING))
    return out


_UNIT_REST = [(name, default) for name, default in _defaults(UnitScore) if name not in _FAST]
_LEAF_REST = [(name, default) for name, default in _defaults(LeafScore)
              if name not in ("indicator", "state", "points", "earned", "rule")]
_LEAF_TYPES = (LeafScore, LeafSummary)  # a summary's leaves are LeafSummary (score.summarise), its rest the defaults
_NODE_REST = [(name, default) for name, default in _defaults(NodeScore)
              if name not in ("indicator", "points", "earned")]
_OUTCOME_FAST = ("src", "unit", "channel", "progress", "measures", "score", "deferred")  # deferred: never written


class _Slow(Exception):
    """A value outside the common shape: carried in `rest` by gapctl.codec."""


def _is_default(value: Any, default: Any) -> bool:
    if value == () and type(default) is list and not default:  # a loaded leaf's empty lists (see _unit_score)
        return True
    if default is dataclasses.MISSING or type(value) is not type(default):
        return False
    if type(value) is Decimal:
        return str(value) == str(default)  # 0.0 == 0, but is not written the same
    return bool(value == default)


def _text(value: Any) -> str:
    if type(value) is not Decimal:
        raise _Slow
    return str(value)


def _str(value: Any) -> str | None:
    if value is not None and type(value) is not str:
        raise _Slow
    return value


def _name(refer: codec.Refer, value: Any) -> str:
    name = refer(value) if value is not None else None
    if name is None:
        raise _Slow
    return name


def _others(obj: Any, rest: list[tuple[str, Any]]) -> None:
    for name, default in rest:
        if not _is_default(getattr(obj, name), default):
            raise _Slow


def _leaves(leaves: Any, refer: codec.Refer) -> list[Any]:
    if type(leaves) is not dict:
        raise _Slow
    out: list[Any] = []
    for key, leaf in leaves.items():
        if type(leaf) not in _LEAF_TYPES or type(key) is not str or type(leaf.state) is not str:
            raise _Slow
        _others(leaf, _LEAF_REST)
        out += [key, _name(refer, leaf.indicator), leaf.state, _text(leaf.points), _text(leaf.earned),
                None if leaf.rule is None else _name(refer, leaf.rule)]
    return out


def _nodes(nodes: Any, refer: codec.Refer) -> list[Any]:
    if type(nodes) is not list:
        raise _Slow
    out: list[Any] = []
    for node in nodes:
        if type(node) is not NodeScore:
            raise _Slow
        _others(node, _NODE_REST)
        out += [_name(refer, node.indicator), _text(node.points), _text(node.earned)]
    return out


def _mapping(values: Any, optional: bool = False) -> list[Any]:
    """A dict of str → Decimal (or None when `optional`) as a flat list."""
    if type(values) is not dict:
        raise _Slow
    out: list[Any] = []
    for key, value in values.items():
        if type(key) is not str:
            raise _Slow
        out += [key, None if optional and value is None else _text(value)]
    return out


def _strings(values: Any) -> list[str]:
    if type(values) is not list or any(type(v) is not str for v in values):
        raise _Slow
    return values


def _externals(values: Any) -> list[Any]:
    if type(values) is not list:
        raise _Slow
    out: list[Any] = []
    for share in values:
        if type(share) is not ExternalShare or any(type(getattr(share, n)) is not str for n in ("source", "name",
                                                                                                 "mode")):
            raise _Slow
        out += [share.source, share.name, share.mode, _text(share.points), _str(share.reason)]
    return out


def _try(rest: dict[str, Any], name: str, value: Any, pack: Callable[..., Any], *args: Any) -> Any:
    try:
        return pack(value, *args)
    except _Slow:
        rest[name] = value
        return None


def _score(score: UnitScore, refer: codec.Refer, src: Any, rest: dict[str, Any]) -> list[Any]:
    decimals = []
    for name in _DECIMALS:
        value = getattr(score, name)
        decimals.append(None if value is None else _try(rest, name, value, _text))
    for name, default in _UNIT_REST:
        value = getattr(score, name)
        if not _is_default(value, default):
            rest[name] = value
    if score.source is not src and score.source is not None:
        rest["source"] = score.source
    return [_try(rest, "unit", score.unit, lambda v: _name(refer, v)),
            _try(rest, "scheme", score.scheme, lambda v: _name(refer, v)),
            _try(rest, "tree", score.tree, _nodes, refer),
            _try(rest, "leaves", score.leaves, _leaves, refer),
            decimals,
            _try(rest, "components", score.components, _mapping, True),
            _try(rest, "externals", score.externals, _externals),
            _try(rest, "pending", score.pending, _strings),
            _try(rest, "flags", score.flags, _strings),
            score.source is src and src is not None,
            _try(rest, "detailed", score.detailed, lambda v: v if type(v) is bool else _raise())]


def _raise() -> Any:
    raise _Slow


def dumps(outcome: Any, refer: codec.Refer) -> bytes:
    """`outcome` (a gapctl.scoring.outcomes.FileOutcome) as bytes; `refer` names the objects written by
    name (its own SourceFile, the scheme's, the units, problem kinds), as for `gapctl.codec.dumps`.
    Raises CodecError for a value neither form can carry."""
    rest: dict[str, Any] = {}
    score_rest: dict[str, Any] = {}
    src = outcome.src
    if refer(src) is None:
        rest["src"] = src
    progress = outcome.progress
    if progress is not None and not (type(progress) is tuple and all(type(n) is int for n in progress)):
        rest["progress"] = progress
        progress = None
    score = outcome.score
    packed_score = None
    if type(score) is UnitScore:
        packed_score = _score(score, refer, src, score_rest)
    elif score is not None:
        rest["score"] = score
    for f in dataclasses.fields(outcome):
        if f.name not in _OUTCOME_FAST:
            value = getattr(outcome, f.name)
            if not (type(value) is list and not value):
                rest[f.name] = value
    top = [FORMAT, _try(rest, "unit", outcome.unit, _str), _try(rest, "channel", outcome.channel, _str),
           None if progress is None else list(progress), _try(rest, "measures", outcome.measures, _mapping),
           packed_score, codec.dumps(rest, refer) if rest else None,
           codec.dumps(score_rest, refer) if score_rest else None]
    try:
        return msgpack.packb(top, use_bin_type=True, strict_types=True)
    except (TypeError, ValueError, OverflowError) as err:
        raise codec.CodecError(f"an outcome: {err}") from None


def loads(data: bytes, make: Callable[..., Any], own: Any, resolve: codec.Resolve, lazy: bool = False) -> Any:
    """The outcome `dumps` wrote, built by `make` (FileOutcome) with `own` as its SourceFile;
    names resolved by `resolve`. Raises CodecError for bytes of another shape. `lazy`: the unit's
    score is not built; its packed form is left in `outcome.deferred` for `materialise` (a warm
    `gapctl score` builds only the scores its finished records do not cover)."""
    try:
        top = msgpack.unpackb(data, raw=False, use_list=True, strict_map_key=False)
        tag, unit, channel, progress, measures, packed, rest, score_rest = top
        if tag != FORMAT:
            raise codec.CodecError(f"not an outcome of this form: {tag!r}")
        outcome = make(own, unit, channel=channel, progress=None if progress is None else tuple(progress),
                       measures=_unflat(measures))
        if packed is not None and lazy:
            outcome.deferred = data  # the bytes (~500), not the unpacked lists: a round keeps one per unit
        elif packed is not None:
            outcome.score = _unit_score(packed, own, resolve)
            if score_rest is not None:
                for name, value in codec.loads(score_rest, resolve).items():
                    setattr(outcome.score, name, value)
        if rest is not None:
            for name, value in codec.loads(rest, resolve).items():
                setattr(outcome, name, value)
        return outcome
    except codec.CodecError:
        raise
    except (msgpack.UnpackException, ValueError, TypeError, KeyError, IndexError, AttributeError, ArithmeticError,
            RecursionError) as err:
        raise codec.CodecError(f"unreadable outcome: {type(err).__name__}: {err}") from None


def materialise(outcome: Any, resolve: codec.Resolve) -> None:
    """Build the score a lazy `loads` left packed (`outcome.deferred`). Raises CodecError for a packed
    score of another shape (the outcome is then as it was)."""
    if outcome.deferred is None:
        return
    try:
        packed, score_rest = msgpack.unpackb(outcome.deferred, raw=False, use_list=True, strict_map_key=False)[5:8:2]
        score = _unit_score(packed, outcome.src, resolve)
        if score_rest is not None:
            for name, value in codec.loads(score_rest, resolve).items():
                setattr(score, name, value)
    except codec.CodecError:
        raise
    except (msgpack.UnpackException, ValueError, TypeError, KeyError, IndexError, AttributeError, ArithmeticError,
            RecursionError) as err:
        raise codec.CodecError(f"unreadable score: {type(err).__name__}: {err}") from None
    outcome.score, outcome.deferred = score, None


_SHARED = SHARED_FIGURES  # short figures (0, 3, -0, 2.5) read once and shared: Decimals are immutable


def _decimal(text: str) -> Decimal:
    """Decimal(text), the same object for a short text already read (gapctl.scoring.score.figure_of): a round's
    leaves repeat a few points values thousands of times (~100 bytes each)."""
    found = _SHARED.get(text)
    return figure_of(text) if found is None else found


_TEXTS: dict[str, str] = {}


def _text_of(text: str) -> str:
    """One str object for a leaf's id or state read again and again (each unpack makes a new one)."""
    found = _TEXTS.get(text)
    if found is None:
        found = text
        if len(_TEXTS) < 65536:
            _TEXTS[text] = text
    return found


def _unflat(flat: list[Any] | None) -> dict[str, Any]:
    """A flat [name, figure, …] list as a dict, its names shared (`_text_of`: every unit's measures and components
    are named alike, and each unpack makes new strings of them: ~3 MB at 30,000 units)."""
    if not flat:
        return {}
    it = iter(flat)
    texts = _TEXTS
    return {texts.get(key) or _text_of(key): None if value is None else _decimal(value)
            for key, value in zip(it, it, strict=True)}


def _unit_score(packed: list[Any], own: Any, resolve: codec.Resolve) -> UnitScore:
    unit, scheme, tree, leaves, decimals, components, externals, pending, flags, source, detailed = packed
    nodes = []
    if tree:
        for n in range(0, len(tree), 3):
            nodes.append(NodeScore(resolve(tree[n]), _decimal(tree[n + 1]), _decimal(tree[n + 2])))
    kept = {}
    if leaves:
        # names bound locally and the shared look-ups of _decimal and _text_of inlined: this loop
        # runs once per leaf of every unit (180,000 times at 3,000 units × 60) on a warm run
        shared, texts, decimal, text_of, leaf = _SHARED, _TEXTS, _decimal, _text_of, LeafSummary
        for n in range(0, len(leaves), 6):
            lid, ref, state, earned, points, rule = leaves[n:n + 6]
            # a summary's leaf is read, never changed: its empty lists are the one empty tuple (three lists
            # a leaf were ~30 MB of a 30,000-unit round's parent)
            got, out_of = shared.get(earned), shared.get(points)  # None: not read yet (0 is a Decimal, falsy)
            kept[texts.get(lid) or text_of(lid)] = leaf(
                resolve(ref), texts.get(state) or text_of(state),
                decimal(earned) if got is None else got, decimal(points) if out_of is None else out_of,
                None if rule is None else resolve(rule))
    shares = []
    if externals:
        for n in range(0, len(externals), 5):
            shares.append(ExternalShare(externals[n], externals[n + 1], externals[n + 2], _decimal(externals[n + 3]),
                                        externals[n + 4]))
    score = UnitScore(None if unit is None else resolve(unit), None if scheme is None else resolve(scheme),
                      nodes, kept)
    for name, value in zip(_DECIMALS, decimals, strict=True):
        setattr(score, name, None if value is None else _decimal(value))
    score.components = _unflat(components)
    score.externals = shares
    score.pending = pending if pending is not None else []
    score.flags = flags if flags is not None else []
    score.source = own if source else None
    if detailed is not None:
        score.detailed = bool(detailed)
    return score


# --- finished records: what a warm `gapctl score` needs of a unit, without its summary --------

FINISHED = "f2"  # the first element of every finished record; a record of another form is not read
# (f2: the round's entry maps unit ids to each record's own MessagePack bytes, read one unit at a time)


def finished_record(score: UnitScore, key: str, rank_earned: list[str], refer: codec.Refer) -> list[Any] | None:
    """A finished unit's score (after `gapctl.scoring.score.finish_unit`) as the record
    `finished_score` reads back for `gapctl score`: its figures, grade, flags, pending items and
    vetoes, and what ranking reads of it (its `rank` leaves and ranked nodes). `key`: its file's
    cache key; `rank_earned`: its rank leaves' earned points as ranking left them, before it was
    finished (flat: id, text). None when the unit carries what a record does not (problems,
    groups, a value of another type): such a unit is finished again on every run."""
    try:
        if score.problems or score.groups or type(score.leaves) is not dict:
            raise _Slow
        leaves: list[Any] = []
        for lid, leaf in score.leaves.items():
            if leaf.rule is not None and leaf.rule.kind == "rank":
                if type(lid) is not str or type(leaf.state) is not str:
                    raise _Slow
                leaves += [lid, _name(refer, leaf.indicator), leaf.state, _text(leaf.points),
                           _name(refer, leaf.rule)]
        decimals = [None if getattr(score, name) is None else _text(getattr(score, name)) for name in _DECIMALS]
        if score.source is not None and refer(score.source) != "F":
            raise _Slow
        return [FINISHED, key, _name(refer, score.unit), _name(refer, score.scheme), list(rank_earned), leaves,
                _nodes(score.tree, refer), decimals, _mapping(score.components, True), _externals(score.externals),
                _strings(score.pending), _strings(score.flags), _str(score.grade), _str(score.grade_en),
                [_name(refer, veto) for veto in score.vetoed], score.source is not None]
    except _Slow:
        return None


def finished_score(record: list[Any], own: Any, resolve: codec.Resolve) -> UnitScore:
    """The unit score a finished record holds (`finished_record`): everything `gapctl score` prints,
    its rank leaves and ranked nodes; no observations, decisions or other leaves. Raises CodecError
    for a record of another shape."""
    try:
        (tag, _key, unit, scheme, _earned, leaves, tree, decimals, components, externals, pending, flags, grade,
         grade_en, vetoed, source) = record
        if tag != FINISHED:
            raise codec.CodecError(f"not a finished record: {tag!r}")
        shared, decimal = _SHARED, _decimal
        kept = {}
        for n in range(0, len(leaves), 5):
            lid, ref, state, points, rule = leaves[n:n + 5]
            kept[lid] = LeafSummary(resolve(ref), state, decimal(points), ZERO, resolve(rule))
        nodes = [NodeScore(resolve(tree[n]), decimal(tree[n + 1]), decimal(tree[n + 2]))
                 for n in range(0, len(tree), 3)]
        figures = dict(zip(_DECIMALS, [None if text is None else shared.get(text) or decimal(text)
                                        for text in decimals], strict=True))
        score = UnitScore(resolve(unit), resolve(scheme), nodes, kept,
                          components=_unflat(components) if components else {},
                          externals=[ExternalShare(externals[n], externals[n + 1], externals[n + 2],
                                                   decimal(externals[n + 3]), externals[n + 4])
                                     for n in range(0, len(externals), 5)] if externals else [],
                          pending=list(pending), flags=list(flags), grade=grade, grade_en=grade_en,
                          vetoed=[resolve(name) for name in vetoed] if vetoed else [], detailed=False,
                          source=own if source else None, **figures)
        return score
    except codec.CodecError:
        raise
    except (ValueError, TypeError, KeyError, IndexError, AttributeError, ArithmeticError, RecursionError) as err:
        raise codec.CodecError(f"unreadable finished record: {type(err).__name__}: {err}") from None


def rank_earned(score: UnitScore) -> list[str]:
    """A unit's `rank` leaves' earned points (flat: id, text), as ranking left them: what its finished
    record was computed from, compared on the next run."""
    out: list[str] = []
    for lid, leaf in score.leaves.items():
        if leaf.rule is not None and leaf.rule.kind == "rank":
            out += [lid, str(leaf.earned)]
    return out
