"""Both sides of a diff without a cache: a file the same on both sides is scored once (gapctl.review.diff_units.sides).

The newer side takes the older side's outcome of every file whose key is the same; the diff must be the one
the cache gives and the one loading both sides whole gives, in one process and in a pool of workers forked
again after every batch, and only the edited files may be read twice.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from gapctl.scoring import details, load, outcomes
from tests.scoring.test_details import diff_outputs, files_parsed, git_repo

pytestmark = pytest.mark.usefixtures("own_cache_home")  # tests.conftest: the cache on, in tmp_path


def _three_diffs() -> list[str]:
    """A repository diff, a round against its revision and two rounds, in the working directory's git repo."""
    from gapctl.review import diff

    return [diff_outputs(diff.diff_repository(Path("."), "HEAD"), True),
            diff_outputs(diff.diff_revisions(Path("rounds/shanwei-2020"), "HEAD"), False),
            diff_outputs(diff.diff_rounds(Path("rounds/suizhou-2021"), Path("rounds/suizhou-2022")), False)]


def _whole_round(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """`_three_diffs` with both sides loaded whole (no file-by-file side): what every lean path must equal."""
    from gapctl.review import diff_units

    with monkeypatch.context() as whole:
        whole.setattr(diff_units, "side", lambda directory, tree=None: None)
        return _three_diffs()


def _slimmed_shanwei(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Any, list[Any]]:
    """shanwei-2020's side made slim in a git repository under tmp_path, and its unit summaries before."""
    from gapctl.review import diff_units

    monkeypatch.chdir(git_repo(tmp_path))
    source = diff_units.side(Path("rounds/shanwei-2020").resolve())
    assert source is not None
    before = list(source.scored.units)
    diff_units.slimmed(source)
    return source, before


def _equal_pooled_or_not(monkeypatch: pytest.MonkeyPatch, expected: list[str], counts: list[int], meaning: str) -> None:
    """`_three_diffs` gives `expected` in a pool of two workers and in one process, and each run counted more than
    20 of what `counts` collects (the lean path was taken)."""
    for jobs in ("2", "1"):
        monkeypatch.setenv("GAPCTL_JOBS", jobs)
        counts.clear()
        assert _three_diffs() == expected, jobs
        assert sum(counts) > 20, meaning


def test_a_diff_without_a_cache_equals_the_whole_round_diff_and_the_cached_one(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from gapctl.review import diff_units

    repo = git_repo(tmp_path)
    monkeypatch.chdir(repo)

    runs = _three_diffs
    expected = _whole_round(monkeypatch)
    cached = runs()
    assert cached == expected
    monkeypatch.setattr(details, "PARALLEL_FROM", 2)
    monkeypatch.setattr(outcomes, "PARALLEL_FROM", 2)
    monkeypatch.setenv("GAPCTL_NO_CACHE", "1")
    monkeypatch.setenv("GAPCTL_DIFF_SLIM_FROM", "0")  # the older sides made slim, as a large round's are
    monkeypatch.setenv("GAPCTL_WORKER_BATCHES", "1")  # every worker forked again after one batch
    reused: list[int] = []
    real = diff_units.Shared.close

    def counted(self: diff_units.Shared) -> None:
        reused.append(self.reused)
        real(self)
    monkeypatch.setattr(diff_units.Shared, "close", counted)
    _equal_pooled_or_not(monkeypatch, expected, reused, "the newer sides took the older sides' outcomes")


def test_without_a_cache_only_the_edited_file_is_read_on_both_sides(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """shanwei-2020 with one observation edited: every other observation file is parsed once (the older
    side), the edited one on each side (and again to detail and attribute it)."""
    from gapctl.review import diff

    repo = git_repo(tmp_path)
    monkeypatch.chdir(repo)
    monkeypatch.setenv("GAPCTL_NO_CACHE", "1")
    monkeypatch.setenv("GAPCTL_JOBS", "1")
    parsed = files_parsed(monkeypatch)
    result = diff.diff_revisions(Path("rounds/shanwei-2020"), "HEAD")
    assert "chengqu" in {u.unit for u in result.changed()}
    observations = sorted(p.name for p in (repo / "rounds/shanwei-2020/observations").iterdir())
    seen = [p for p in parsed if p in observations]
    assert sorted(set(seen)) == observations
    assert {name: seen.count(name) for name in observations if seen.count(name) > 1} == {"chengqu.yaml": 5}


@pytest.mark.parametrize("cache", ["on", "off"])
def test_the_older_side_is_kept_slim_when_large(cache: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Its units are `Slim` records (not summaries) once the newer side is computed; the changed unit's
    indicator changes still come from its whole summary, read back."""
    from gapctl.review import diff, diff_units

    repo = git_repo(tmp_path)
    monkeypatch.chdir(repo)
    monkeypatch.setenv("GAPCTL_DIFF_SLIM_FROM", "0")  # a small round is kept slim as a large one is
    if cache == "off":
        monkeypatch.setenv("GAPCTL_NO_CACHE", "1")
    result = diff.diff_revisions(Path("rounds/shanwei-2020"), "HEAD")
    assert result.old.units and all(isinstance(u, diff_units.Slim) for u in result.old.units)
    changed = {u.unit: u for u in result.changed()}
    assert changed["chengqu"].indicators and isinstance(changed["chengqu"].old, diff_units.Slim)


def test_a_small_older_side_keeps_its_summaries(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Below GAPCTL_DIFF_SLIM_FROM units nothing is pickled away: pickling costs more time than it saves memory."""
    from gapctl.review import diff, diff_units

    repo = git_repo(tmp_path)
    monkeypatch.chdir(repo)
    monkeypatch.setattr(diff_units, "slimmed", lambda source: pytest.fail("a small round was made slim"))
    result = diff.diff_revisions(Path("rounds/shanwei-2020"), "HEAD")
    assert result.old.units and not any(isinstance(u, diff_units.Slim) for u in result.old.units)


@pytest.mark.parametrize("cache", ["on", "off"])
def test_both_sides_share_the_schemes_and_units_of_the_same_bytes(cache: str, tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """shanwei-2020's scheme and unit set are the same bytes at HEAD and in the working tree: the newer side
    takes the older side's objects (load's memo) instead of building (or decoding) them again."""
    from gapctl.review import diff

    repo = git_repo(tmp_path)
    monkeypatch.chdir(repo)
    if cache == "off":
        monkeypatch.setenv("GAPCTL_NO_CACHE", "1")
    built: list[str] = []
    real = load.Loaded.build

    def counting(self, path, kind, builder, share=True):
        before = len(self.memo) if self.memo is not None else None
        found = real(self, path, kind, builder, share)
        if kind in ("scheme", "units") and (before is None or len(self.memo) > before):
            built.append(str(path))  # not taken from the memo
        return found
    monkeypatch.setattr(load.Loaded, "build", counting)
    result = diff.diff_revisions(Path("rounds/shanwei-2020"), "HEAD")
    old, new = result.old.by_unit(), result.new.by_unit()
    assert old and old.keys() == new.keys()
    assert all(old[u].unit is new[u].unit and old[u].scheme is new[u].scheme for u in old)
    assert built and len(built) == len(set(built)), "a scheme or unit set built on both sides"


def test_a_slim_units_summary_reads_back_with_the_rounds_own_objects(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """A summary pickled away (`Slimmed`) reads back equal to itself, its unit, scheme, indicators and file the
    round's very objects (references, not copies)."""
    from gapctl.review import diff_units

    source, before = _slimmed_shanwei(tmp_path, monkeypatch)
    assert all(isinstance(u, diff_units.Slim) for u in source.scored.units)
    for kept, slim in zip(before, source.scored.units, strict=True):
        back = diff_units.full_summary(source, slim)
        assert back == kept and back is not kept
        assert back.unit is kept.unit and back.scheme is kept.scheme and back.source is kept.source
        assert all(back.leaves[k].indicator is leaf.indicator for k, leaf in kept.leaves.items())


@pytest.mark.parametrize("cache", ["on", "off"])
def test_the_newer_side_shares_the_older_sides_plan_where_equal(cache: str, tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """shanwei-2020 with one observation edited: the newer side takes the older side's file lists, unit
    keys, external shares, reference tables and file tables (the same objects, not equal copies), and
    the older side's key and hash strings for every file but the edited one."""
    from gapctl.data.tree import DiskTree
    from gapctl.review import diff_units
    from gapctl.review.blobs import CheckedOutTree

    repo = git_repo(tmp_path)
    monkeypatch.chdir(repo)
    if cache == "off":
        monkeypatch.setenv("GAPCTL_NO_CACHE", "1")
    directory = (repo / "rounds/shanwei-2020").resolve()
    tree = CheckedOutTree(repo, "HEAD")
    try:
        old, new = diff_units.sides(directory, tree, directory, DiskTree(), {})
    finally:
        tree.close()
    assert old is not None and new is not None
    assert new.round.observation_paths is old.round.observation_paths
    assert outcomes.round_paths(new.plan) is outcomes.round_paths(old.plan)
    for name in ("unit_keys", "externals", "references", "objects"):
        assert getattr(new.plan, name) is getattr(old.plan, name), name
    assert new.files is old.files and new.channel_files is old.channel_files
    paths = outcomes.round_paths(new.plan)
    differ = [p.name for p, a, b in zip(paths, old.plan.keys, new.plan.keys, strict=True) if a is not b]
    assert differ == ["chengqu.yaml"]
    assert [p.name for p in paths if new.plan.hashes[p] is not old.plan.hashes[p]] == ["chengqu.yaml"]


def test_a_different_round_shares_nothing_of_the_earlier_plan(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two rounds compared (different directories): each plan keeps its own objects."""
    from gapctl.review import diff_units

    repo = git_repo(tmp_path)
    monkeypatch.chdir(repo)
    old, new = diff_units.sides(Path("rounds/shanwei-2020").resolve(), None, Path("rounds/yanjiang-2021").resolve(),
                                None, {})
    assert old is not None and new is not None
    assert new.plan.unit_keys is not old.plan.unit_keys and new.plan.references is not old.plan.references
    assert new.round.observation_paths is not old.round.observation_paths


def test_scoring_with_the_outcomes_released_gives_the_same_round(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """`outcomes.score(release=True)` lets the plan's outcomes go before ranking; the scores are the same."""
    from gapctl.scoring.scoreboard import unit_row

    repo = git_repo(tmp_path)
    monkeypatch.chdir(repo)
    for name in ("shanwei-2020", "example-county-2024", "yanjiang-2021"):
        kept = outcomes.score(outcomes.check(Path("rounds") / name))
        checked = outcomes.check(Path("rounds") / name)
        released = outcomes.score(checked, release=True)
        assert checked.plans[0].outcomes == []
        assert [unit_row(u) for u in released.units] == [unit_row(u) for u in kept.units], name
        assert [sorted((k, leaf.state, leaf.earned) for k, leaf in u.leaves.items()) for u in released.units] \
            == [sorted((k, leaf.state, leaf.earned) for k, leaf in u.leaves.items()) for u in kept.units], name


def test_a_warm_cache_diff_equals_the_whole_round_diff_slim_pooled_or_not(tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """The lean path with a cache that an earlier diff filled (schemes and unit sets decoded from the cache,
    the older side's records held packed, its units slim): the same bytes as loading both sides whole, in a
    pool of workers and in one process."""
    from gapctl.review import diff_units

    repo = git_repo(tmp_path)
    monkeypatch.chdir(repo)

    runs = _three_diffs
    expected = _whole_round(monkeypatch)
    monkeypatch.setenv("GAPCTL_DIFF_SLIM_FROM", "0")
    monkeypatch.setattr(details, "PARALLEL_FROM", 2)
    monkeypatch.setattr(outcomes, "PARALLEL_FROM", 2)
    packed: list[int] = []
    real = diff_units.Records.__init__

    def counted(self: diff_units.Records, records: dict[str, bytes]) -> None:
        real(self, records)
        assert all(self.get(k) == v for k, v in records.items()) and len(self) == len(records)
        packed.append(len(records))
    monkeypatch.setattr(diff_units.Records, "__init__", counted)
    runs()  # fills the cache
    _equal_pooled_or_not(monkeypatch, expected, packed, "the older sides' records were held packed")


def test_a_warm_cache_diff_shares_the_schemes_and_units_of_the_same_bytes(tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """With the scheme and the unit set decoded from the cache (a second diff), the newer side still takes
    the older side's objects (load's memo) instead of decoding a second copy of each."""
    from gapctl.review import diff

    repo = git_repo(tmp_path)
    monkeypatch.chdir(repo)
    diff.diff_revisions(Path("rounds/shanwei-2020"), "HEAD")  # fills the cache
    result = diff.diff_revisions(Path("rounds/shanwei-2020"), "HEAD")
    old, new = result.old.by_unit(), result.new.by_unit()
    assert old and old.keys() == new.keys()
    assert all(old[u].unit is new[u].unit and old[u].scheme is new[u].scheme for u in old)


def test_packed_records_read_as_the_dict_they_were_made_from() -> None:
    from gapctl.review.diff_units import Records

    records = {"a": b"\x93\x01\x02\x03", "b": b"", "c": bytes(range(256)) * 3}
    packed = Records(records)
    assert len(packed) == 3 and "b" in packed and "z" not in packed and packed
    assert {k: packed.get(k) for k in records} == records
    assert packed.get("z") is None and not Records({})


def test_a_slim_unit_keeps_its_figures_and_where_its_summary_is(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """`Slim` holds each figure once across units (equal and written the same) and its place as one int."""
    from decimal import Decimal

    from gapctl.review import diff_units

    source, before = _slimmed_shanwei(tmp_path, monkeypatch)
    for kept, slim in zip(before, source.scored.units, strict=True):
        assert str(slim.total) == str(kept.total) and slim.grade == kept.grade and slim.rank == kept.rank
        assert slim.place is not None and diff_units.full_summary(source, slim) == kept
    assert diff_units._same(Decimal("1.0")) is diff_units._same(Decimal("1.0"))
    assert str(diff_units._same(Decimal("2.50"))) == "2.50" and str(diff_units._same(Decimal("2.5"))) == "2.5"


def _parsed_unit_sets(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The unit sets this process parses from here on (`load.build_unit_set`; a forked child's calls are its own)."""
    parsed: list[str] = []
    real = load.build_unit_set

    def counting(src: Any, data: Any, problems: list[Any]) -> Any:
        parsed.append(str(src.path))
        return real(src, data, problems)
    monkeypatch.setattr(load, "build_unit_set", counting)
    return parsed


def _empty_cache() -> None:
    import shutil

    shutil.rmtree(".gapctl-cache", ignore_errors=True)


def test_a_large_unit_set_is_built_in_a_child_and_the_diff_is_the_same_pooled_or_not(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With the cache emptied, a unit set of GAPCTL_DIFF_PRIME_FROM bytes or more is parsed in a forked child
    that keeps it in the cache, and both sides read it back from there: this process parses none, and every
    diff is the bytes of loading both sides whole, in a pool of workers and in one process. Below the limit,
    this process parses them itself (as before)."""
    repo = git_repo(tmp_path)
    monkeypatch.chdir(repo)
    path = repo / "units" / "shanwei.yaml"  # a unit set that differs between the sides: both are primed
    path.write_text(path.read_text(encoding="utf-8").replace("name: 陆丰市", "name: 陆丰市（改）", 1), encoding="utf-8")
    expected = _whole_round(monkeypatch)
    parsed = _parsed_unit_sets(monkeypatch)
    monkeypatch.setattr(details, "PARALLEL_FROM", 2)
    monkeypatch.setattr(outcomes, "PARALLEL_FROM", 2)
    for jobs in ("2", "1"):
        monkeypatch.setenv("GAPCTL_JOBS", jobs)
        monkeypatch.setenv("GAPCTL_DIFF_PRIME_FROM", "1")
        _empty_cache()
        parsed.clear()
        assert _three_diffs() == expected, jobs
        # suizhou-2021's side has errors: the two suizhou rounds are compared whole, loaded without the cache
        assert parsed and all("suizhou" in p for p in parsed), \
            "a unit set parsed here although a child had built it into the cache"
    monkeypatch.setenv("GAPCTL_DIFF_PRIME_FROM", str(10 ** 9))  # below the limit (in one process: as before)
    _empty_cache()
    parsed.clear()
    assert _three_diffs() == expected
    assert any(p.endswith("shanwei.yaml") for p in parsed), "the unit sets were not parsed here below the limit"


def test_priming_forks_only_for_what_the_cache_lacks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`primed_unit_sets`: both sides' unit sets (one when they are the same bytes) built once; nothing forked
    once the cache has them, below the limit, or with the cache off."""
    from gapctl.data.tree import DiskTree
    from gapctl.review import diff_units
    from gapctl.review.blobs import CheckedOutTree

    repo = git_repo(tmp_path)
    monkeypatch.chdir(repo)
    directory = (repo / "rounds" / "shanwei-2020").resolve()
    head = CheckedOutTree(repo, "HEAD")
    pairs = [(directory, head), (directory, DiskTree())]
    try:
        monkeypatch.setenv("GAPCTL_DIFF_PRIME_FROM", str(10 ** 9))
        assert diff_units.primed_unit_sets(pairs) == 0
        monkeypatch.setenv("GAPCTL_DIFF_PRIME_FROM", "1")
        monkeypatch.setenv("GAPCTL_NO_CACHE", "1")
        assert diff_units.primed_unit_sets(pairs) == 0
        monkeypatch.delenv("GAPCTL_NO_CACHE")
        units = len(list((repo / "units").iterdir()))
        assert diff_units.primed_unit_sets(pairs) == units  # the same bytes on both sides: once each
        assert diff_units.primed_unit_sets(pairs) == 0
        path = repo / "units" / "shanwei.yaml"
        path.write_text(path.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
        assert diff_units.primed_unit_sets(pairs) == 1  # the working tree's new bytes
        parsed = _parsed_unit_sets(monkeypatch)
        found = outcomes.check(directory, True, tree=head, memo={})
        assert found.loaded.round is not None and found.loaded.round.unit_set is not None and parsed == []
    finally:
        head.close()


def test_a_child_that_fails_leaves_the_unit_sets_to_be_parsed_here(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from gapctl.review import diff_units

    repo = git_repo(tmp_path)
    monkeypatch.chdir(repo)
    expected = _whole_round(monkeypatch)
    _empty_cache()

    def failing(cache: Any, missing: list[Any]) -> None:
        raise RuntimeError("the child fails")
    monkeypatch.setattr(diff_units, "_build_into_cache", failing)
    monkeypatch.setenv("GAPCTL_DIFF_PRIME_FROM", "1")
    parsed = _parsed_unit_sets(monkeypatch)
    assert _three_diffs() == expected
    assert parsed, "nothing parsed here although the child built nothing"
