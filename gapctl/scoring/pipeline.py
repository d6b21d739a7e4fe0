"""The per-file work as a public API: plan a round, compute each file's outcome anywhere, rank here.

A round's observation files are independent: what one file gives (its problems and a summary
of its unit's score) is a pure function of the file's bytes and a small context — the round's
schemes, units, appeals and external deductions, the language of messages and a few limits.
That is what `gapctl.scoring.outcomes` caches and hands to forked workers; this module exposes the same
three steps so that other machines can do the middle one:

    from gapctl.scoring import pipeline
    plan = pipeline.plan("rounds/suizhou-2021")          # here: load schemes, units, round file
    payloads = [pipeline.outcome(plan, path, path.read_bytes())  # anywhere: `plan` pickles
                for path in pipeline.files(plan)]
    result = pipeline.rank(plan, payloads)               # here: merge in path order, rank
    result.scores                                        # a RoundScore, as `gapctl score` prints it

`Plan` pickles without the cache, the outcomes computed so far or anything else that is only
meaningful in the parent; unpickled, it rebuilds the names by which an outcome refers to the
scheme's indicators and rules, the units and problem kinds (`gapctl.codec`), so the bytes a
worker returns are the bytes the cache would hold. `outcome_batch` is the function
`gapctl.scoring.executors` runs on a Dask cluster. Results are merged by index, so the order in which
workers finish never changes the output.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from gapctl import i18n
from gapctl.data import cache as C
from gapctl.problems import ERROR, Report
from gapctl.scoring import outcomes as O
from gapctl.scoring.score import RoundScore, UnitScore

ENV = ("GAPCTL_MAX_FILE_MB", "GAPCTL_MAX_VALUES", "GAPCTL_CI", "CI")  # limits the per-file work reads


class Plan:
    """A round's plan (`gapctl.scoring.outcomes.RoundPlan`) with the language and limits it was made under."""

    __slots__ = ("round_plan", "lang", "env", "problems")

    def __init__(self, round_plan: O.RoundPlan, lang: str, env: dict[str, str], problems: list[Any] | None = None):
        self.round_plan = round_plan
        self.lang = lang
        self.env = env
        self.problems = problems or []  # the round's own problems (definitions, context), parent only

    @classmethod
    def of(cls, round_plan: O.RoundPlan, problems: list[Any] | None = None) -> Plan:
        return cls(round_plan, i18n.lang(), {k: os.environ[k] for k in ENV if k in os.environ}, problems)

    def __getstate__(self) -> dict[str, Any]:
        plan = self.round_plan
        kinds = C.problem_kinds()
        light = replace(plan, cache=None, outcomes=[], displays={}, keys=[], references={}, keyed=None, links=None,
                        objects={name: obj for name, obj in plan.objects.items() if name not in kinds})
        return {"round_plan": light, "lang": self.lang, "env": self.env}

    def __setstate__(self, state: dict[str, Any]) -> None:
        plan = state["round_plan"]
        plan.objects.update(C.problem_kinds())  # this process's kinds: `problem.kind is KIND` holds here
        plan.references = {id(obj): name for name, obj in plan.objects.items()}
        self.round_plan, self.lang, self.env, self.problems = plan, state["lang"], state["env"], []

    def enter(self) -> O.RoundPlan:
        """In a worker: take on the plan's language and limits; the round plan to compute with."""
        if i18n.lang() != self.lang:
            i18n.use(self.lang)
        for name in ENV:
            if os.environ.get(name) != self.env.get(name):
                if name in self.env:
                    os.environ[name] = self.env[name]
                else:
                    os.environ.pop(name, None)
        return self.round_plan


def plan(path: Path | str) -> Plan:
    """Read a round's definitions (round file, schemes, unit set, appeals, external deductions; no
    observation file) and plan its files. Problems found so far are on `Plan.problems`; a round
    with an error among them is planned but not scored."""
    from gapctl.scoring.load import load
    from gapctl.scoring.validate import check_definitions, check_round_context

    loaded = load(Path(path), observations=False)
    if loaded.round is None:
        messages = "; ".join(p.message for p in loaded.problems) or i18n._("not a round directory")
        raise ValueError(f"{path}: {messages}")
    report = Report(list(loaded.problems) + check_definitions(loaded.repository))
    report.extend(check_round_context(loaded.round))
    round_plan = O.plan_round(loaded.round, None, can_score=not any(p.severity == ERROR for p in report.problems))
    return Plan.of(round_plan, report.problems)


def files(plan: Plan) -> list[Path]:
    """The files whose outcomes `rank` needs, in the order it takes them."""
    return O.round_paths(plan.round_plan)


def outcome(plan: Plan, path: Path, data: bytes) -> bytes:
    """One file's outcome as the bytes the cache stores (MessagePack, `gapctl.codec`): its problems
    and a summary of its unit's score. Pure: the same plan, path and bytes give the same bytes."""
    round_plan = plan.enter()
    payload = O.dump_outcome(round_plan, O.outcome_of(round_plan, path, data))
    if payload is None:  # a value the format cannot carry: a gapctl bug, which tests/data/test_codec.py catches
        raise ValueError(f"{path}: the outcome cannot be encoded")
    return payload


def outcome_batch(plan: Plan, items: list[tuple[int, Path, bytes | None]], _extra: Any = None
                  ) -> list[tuple[int, bytes | None, bool]]:
    """`outcome` for several files: (index, payload or None when it cannot be encoded, whether it may
    be cached under its file's key). What `gapctl.scoring.executors` runs on each worker."""
    round_plan = plan.enter()
    out = []
    for index, path, data in items:
        assert data is not None, "the parent sends every file's bytes"
        result = O.outcome_of(round_plan, path, data)
        out.append((index, O.dump_outcome(round_plan, result), O.cacheable(round_plan, path, result)))
    return out


def decode(plan: Plan, path: Path, payload: bytes) -> O.FileOutcome:
    """An outcome's bytes back as a FileOutcome whose references are this plan's objects."""
    return O.load_outcome(plan.round_plan, path, payload)


@dataclass
class Ranked:
    """What `rank` gives: every problem of the round, and its scores when there is no error."""

    report: Report
    scores: RoundScore | None


def rank(plan: Plan, payloads: list[bytes], final: bool = False) -> Ranked:
    """Merge the files' outcomes (in `files` order) with the checks that span files, then rank:
    what `gapctl validate` reports and `gapctl score` prints for the round."""
    round_plan = plan.round_plan
    paths = files(plan)
    if len(payloads) != len(paths):
        raise ValueError(f"{len(payloads)} outcomes for {len(paths)} files")
    round_plan.outcomes = [decode(plan, path, payload) for path, payload in zip(paths, payloads, strict=True)]
    report = Report(list(plan.problems))
    report.extend(O.merge_outcomes(round_plan))
    if report.errors:
        return Ranked(report, None)
    checked = O.Checked(None, report, len(paths), [round_plan])  # type: ignore[arg-type]
    return Ranked(report, O.score(checked, final))


def unit_score(plan: Plan, path: Path, data: bytes) -> UnitScore | None:
    """A unit's whole score (every leaf, the tree) from its observation file, as `score` would compute it
    before ranking; None for a channel's file or a file that cannot be scored."""
    round_plan = plan.enter()
    found = O.file_score(round_plan, path, data) if round_plan.can_score else None
    return found[0] if found is not None else None


__all__ = ["Plan", "Ranked", "decode", "files", "outcome", "outcome_batch", "plan", "rank", "unit_score"]
