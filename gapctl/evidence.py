"""Evidence files kept under a round: verify their sha256, add new ones and record them."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from gapctl.model import Round
from gapctl.problems import EVIDENCE_HASH, Problem


@dataclass
class Verified:
    checked: int = 0
    problems: list[Problem] = field(default_factory=list)


def verify(round_: Round) -> Verified:
    """Every evidence `file` of the round's observations and appeals: inside the round, present, hash as recorded."""
    from gapctl.validate import check_evidence_file

    result = Verified()
    entries = [r for obs in round_.observations.values() for r in obs.results]
    evidence = [ev for r in entries for ev in r.evidence]
    evidence += [ev for appeals in round_.appeals.values() for a in appeals for ev in a.evidence]
    for ev in evidence:
        if not ev.file:
            continue
        result.checked += 1
        result.problems.extend(check_evidence_file(round_.directory, ev, round_.tree))
        if not ev.sha256:
            result.problems.append(Problem(EVIDENCE_HASH, f"evidence file '{ev.file}' has no sha256; record it "
                                           "(gapctl evidence add) so later changes are caught", ev.src,
                                           ev.at + ("file",)))
    return result


class EvidenceError(Exception):
    """The file cannot be added (missing, a link, or the observation file cannot be written)."""


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _copied(source: Path, digest: str) -> Iterator[bytes]:
    """The blocks of `source`, checked against the hash recorded for it once all are read."""
    check = hashlib.sha256()
    with source.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            check.update(block)
            yield block
    if check.hexdigest() != digest:
        raise EvidenceError(f"{source}: changed while it was being copied; nothing was added")


def add(round_dir: Path, unit: str, indicator: str, source: Path, title: str | None = None,
        captured: dt.date | None = None, submitted: dt.date | None = None) -> tuple[Path, str]:
    """Copy `source` to evidence/<unit>/ under the round, hash it, and record it on the unit's entry.

    The observation file is edited in place (gapctl.fmt.Edit: everything but the new record keeps
    its bytes); the copy and the edit are written atomically, never through a symbolic link, and
    never over an observation file that does not parse (gapctl.writes).
    """
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    from gapctl import schema as S
    from gapctl.fmt import Edit
    from gapctl.writes import Write, WriteError, read_original, refusal, round_root, write_files

    if not source.is_file():
        raise EvidenceError(f"{source}: no such file")
    root = round_root(round_dir)
    obs_path = round_dir / "observations" / f"{unit}.yaml"
    if not os.path.lexists(obs_path):
        raise EvidenceError(f"{obs_path}: no observation file for unit '{unit}'")
    try:
        edit = Edit(read_original(obs_path, root))
    except WriteError as err:
        raise EvidenceError(str(err)) from None
    data = edit.data
    if not isinstance(data, CommentedMap) or not isinstance(data.get("results", CommentedSeq()), CommentedSeq):
        raise EvidenceError(f"{obs_path}: 'results' is not a list of entries; fix the file first (gapctl validate)")
    digest = sha256_of(source)
    target_dir = round_dir / "evidence" / unit
    target = target_dir / source.name
    why = refusal(target, root)
    if why:
        raise EvidenceError(why)
    if target.exists() and sha256_of(target) != digest:
        target = target_dir / f"{source.stem}-{digest[:8]}{source.suffix}"
    copy = not os.path.lexists(target)
    rel = target.relative_to(round_dir).as_posix()
    if "results" not in data:
        edit.set(data, "results", CommentedSeq(), S.OBSERVATIONS)
    results = data["results"]
    entry = next((e for e in results if isinstance(e, dict) and str(e.get("indicator")) == indicator
                  and e.get("source", "evaluator") == "evaluator"), None)
    if entry is None:
        entry = CommentedMap([("indicator", indicator), ("result", "pending")])
        edit.append(results, entry)
    record = CommentedMap([("file", rel), ("sha256", digest)])
    if captured:
        record["captured"] = captured
    if submitted:
        record["submitted"] = submitted
    if title:
        record["title"] = title
    evidence = entry.get("evidence")
    changed = True
    if evidence is None:
        edit.set(entry, "evidence", CommentedSeq([record]), S.RESULT)
    elif not isinstance(evidence, list):
        raise EvidenceError(f"{obs_path}: 'evidence' of '{indicator}' is not a list; fix the file first "
                            "(gapctl validate)")
    elif any(isinstance(e, dict) and e.get("file") == rel for e in evidence):
        changed = False
    else:
        edit.append(evidence, record)
    try:
        writes = [Write(target, _copied(source, digest), new=True)] if copy else []
        if changed:
            writes.append(Write(obs_path, edit.new_bytes(), edit.original.seen))
        write_files(writes, root)
    except WriteError as err:
        raise EvidenceError(str(err)) from None
    return target, digest
