"""Evidence files kept under a round: verify their sha256, add new ones and record them."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import shutil
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


def add(round_dir: Path, unit: str, indicator: str, source: Path, title: str | None = None,
        captured: dt.date | None = None, submitted: dt.date | None = None) -> tuple[Path, str]:
    """Copy `source` to evidence/<unit>/ under the round, hash it, and record it on the unit's entry.

    The observation file keeps its comments and layout (gapctl fmt's writer: atomic, no symlinks).
    """
    from gapctl.fmt import format_text, round_trip_yaml, write_atomically

    if not source.is_file():
        raise EvidenceError(f"{source}: no such file")
    obs_path = round_dir / "observations" / f"{unit}.yaml"
    if not obs_path.is_file() or obs_path.is_symlink():
        raise EvidenceError(f"{obs_path}: no observation file for unit '{unit}' (or it is a symbolic link)")
    digest = sha256_of(source)
    target_dir = round_dir / "evidence" / unit
    target = target_dir / source.name
    if target.exists() and sha256_of(target) != digest:
        target = target_dir / f"{source.stem}-{digest[:8]}{source.suffix}"
    target_dir.mkdir(parents=True, exist_ok=True)
    if not target.exists():
        tmp = target.with_name(f".{target.name}.tmp")
        shutil.copyfile(source, tmp)
        os.replace(tmp, target)
    rel = target.relative_to(round_dir).as_posix()
    yaml = round_trip_yaml()
    text = obs_path.read_text(encoding="utf-8")
    data = yaml.load(text)
    entry = next((e for e in data.get("results") or [] if str(e.get("indicator")) == indicator
                  and e.get("source", "evaluator") == "evaluator"), None)
    if entry is None:
        from ruamel.yaml.comments import CommentedMap

        entry = CommentedMap([("indicator", indicator), ("result", "pending")])
        data.setdefault("results", []).append(entry)
    from ruamel.yaml.comments import CommentedMap

    record = CommentedMap([("file", rel), ("sha256", digest)])
    if captured:
        record["captured"] = captured
    if submitted:
        record["submitted"] = submitted
    if title:
        record["title"] = title
    if entry.get("evidence") is None:
        entry["evidence"] = []
    if not any(isinstance(e, dict) and e.get("file") == rel for e in entry["evidence"]):
        entry["evidence"].append(record)
    import io

    buffer = io.StringIO()
    yaml.dump(data, buffer)
    new = format_text(buffer.getvalue(), "observations")
    write_atomically(obs_path, new.encode("utf-8"), os.stat(obs_path))
    return target, digest
