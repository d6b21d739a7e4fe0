"""Evidence files kept under a round: verify their sha256, add new ones and record them.

`add` writes only inside the round: the unit and indicator must be ids (no `..`, `/` or
absolute path can reach the file system through them), the unit must be in the round's unit
set, the indicator a leaf of its scheme that applies to it; the file to add is read as a
regular file (never a FIFO) and the copy and the edit are refused through any symbolic link
(gapctl.data.writes). A refusal lists every reason and writes nothing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gapctl.data.model import Round
from gapctl.i18n import _
from gapctl.problems import EVIDENCE_HASH, Problem


@dataclass
class Verified:
    checked: int = 0
    problems: list[Problem] = field(default_factory=list)


def verify(round_: Round) -> Verified:
    """Every evidence `file` of the round's observations and appeals: inside the round, present, hash as recorded."""
    from gapctl.scoring.validate import check_evidence_file

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
            result.problems.append(Problem(EVIDENCE_HASH, _("evidence file '{file}' has no sha256; record it (gapctl "
                                                            "evidence add) so later changes are caught").format(
                                               file=ev.file), ev.src, ev.at + ("file",)))
    return result


class EvidenceError(Exception):
    """The file cannot be added: one line per reason (`lines`), nothing was written."""

    def __init__(self, *lines: str) -> None:
        super().__init__("\n".join(lines))
        self.lines = list(lines)


def sha256_of(path: Path, root: Any = None) -> str:
    """The file's sha256, read through gapctl.data.reads: a regular file inside `root` (default: its
    repository; gapctl.data.reads.ANYWHERE for a file named on the command line)."""
    from gapctl.data.reads import open_regular

    digest = hashlib.sha256()
    with open_regular(path, root) as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _copied(source: Path, digest: str) -> Iterator[bytes]:
    """The blocks of `source`, checked against the hash recorded for it once all are read."""
    from gapctl.data.reads import ANYWHERE, open_regular

    check = hashlib.sha256()
    with open_regular(source, ANYWHERE) as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            check.update(block)
            yield block
    if check.hexdigest() != digest:
        raise EvidenceError(_("{path}: changed while it was being copied; nothing was added").format(path=source))


def add(round_dir: Path, unit: str, indicator: str, source: Path, title: str | None = None,
        captured: dt.date | None = None, submitted: dt.date | None = None) -> tuple[Path, str]:
    """Copy `source` to evidence/<unit>/ under the round, hash it, and record it on the unit's entry.

    The observation file is edited in place (gapctl.data.yaml_edit.Edit: everything but the new record keeps
    its bytes); the copy and the edit are written atomically, never through a symbolic link, and
    never over an observation file that does not parse (gapctl.data.writes).
    """
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    from gapctl.data import schema as S
    from gapctl.data.reads import ANYWHERE, check, shown
    from gapctl.data.writes import Write, WriteError, read_original, refusal, round_root, write_files
    from gapctl.data.yaml_edit import Edit

    round_dir = Path(round_dir)
    refused = [_("unit {why}").format(why=why) for why in [S.id_problem(unit)] if why]
    refused += [_("indicator {why}").format(why=why) for why in [S.id_problem(indicator)] if why]
    try:
        check(source, ANYWHERE)  # a regular file, wherever it is (a FIFO would block the copy)
    except FileNotFoundError:
        refused.append(_("{path}: no such file").format(path=shown(source)))
    except (OSError, ValueError) as err:
        refused.append(str(err) if hasattr(err, "shown") else _("{path}: cannot read: {error}").format(
            path=shown(source), error=getattr(err, "strerror", None) or err))
    if refused:  # the ids name files: nothing below may run with one that is not an id
        raise EvidenceError(*refused)
    root = round_root(round_dir)
    obs_path = round_dir / "observations" / f"{unit}.yaml"
    if not os.path.lexists(obs_path):
        raise EvidenceError(_("{path}: no observation file for unit '{unit}'").format(path=shown(obs_path), unit=unit))
    refused = _unknown(round_dir, unit, indicator)
    try:
        edit = Edit(read_original(obs_path, root))
    except WriteError as err:
        raise EvidenceError(*refused, str(err)) from None
    if refused:
        raise EvidenceError(*refused)
    data = edit.data
    if not isinstance(data, CommentedMap) or not isinstance(data.get("results", CommentedSeq()), CommentedSeq):
        raise EvidenceError(_("{path}: 'results' is not a list of entries; fix the file first (gapctl "
                              "validate)").format(path=shown(obs_path)))
    target_dir = round_dir / "evidence" / unit
    target = target_dir / source.name
    why = refusal(target, root)
    if why:
        raise EvidenceError(why)
    try:
        digest = sha256_of(source, ANYWHERE)
        if os.path.lexists(target) and sha256_of(target, round_dir) != digest:
            target = target_dir / f"{source.stem}-{digest[:8]}{source.suffix}"
    except (OSError, ValueError) as err:
        why = str(err) if hasattr(err, "shown") else _("cannot read: {error}").format(error=err)
        raise EvidenceError(why) from None
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
        raise EvidenceError(_("{path}: 'evidence' of '{indicator}' is not a list; fix the file first (gapctl "
                              "validate)").format(path=shown(obs_path), indicator=indicator))
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


def _unknown(round_dir: Path, unit: str, indicator: str) -> list[str]:
    """Why evidence cannot be recorded for this unit and indicator (the round's unit set and schemes
    read without its observations); empty when it can."""
    from gapctl.data.reads import shown
    from gapctl.scoring.load import load

    loaded = load(round_dir, observations=False)
    round_ = loaded.round
    if round_ is None or round_.unit_set is None:
        return [_("{path}: the round or its unit set cannot be read, so unit '{unit}' and indicator '{indicator}' "
                  "cannot be checked; run gapctl validate {path}").format(path=shown(round_dir), unit=unit,
                                                                          indicator=indicator)]
    member = round_.unit_set.by_id().get(unit)
    if member is None:
        return [_("unit '{unit}' is not in unit set '{set}' of {path}").format(unit=unit, set=round_.unit_set.id,
                                                                              path=shown(round_dir))]
    scheme = round_.scheme_for(member)
    if scheme is None:
        return [_("unit '{unit}' has no scheme in {path}; run gapctl validate {path}").format(unit=unit,
                                                                                          path=shown(round_dir))]
    found = scheme.index.get(indicator) or next((i for i in scheme.all_indicators() if i.id == indicator), None)
    if found is None:
        return [_("indicator '{indicator}' is not in scheme '{scheme}' (unit '{unit}')").format(
            indicator=indicator, scheme=scheme.id, unit=unit)]
    if not found.is_leaf:
        return [_("indicator '{indicator}' of scheme '{scheme}' is a group; add evidence to one of its "
                  "sub-indicators").format(indicator=indicator, scheme=scheme.id)]
    if not found.applies(member):
        return [_("indicator '{indicator}' of scheme '{scheme}' does not apply to unit '{unit}' ({scope})").format(
            indicator=indicator, scheme=scheme.id, unit=unit, scope=found.scope or _("see its applies_to"))]
    return []
