"""A warm `gapctl score` reads each unit's finished record (gapctl.scoring.outcomes, `light`) instead of
building and finishing its summary: its output must be the output of a run without a cache, byte for
byte, on every shipped round and format, after an edit that moves another unit's rank bonus, and
when the records are corrupt, of another layout or missing."""

from __future__ import annotations

from pathlib import Path

import msgpack
import pytest
from typer.testing import CliRunner

from gapctl.cli import app
from gapctl.data import cache as C
from gapctl.scoring import compact, outcomes
from tests.conftest import ROOT as REPO
from tests.conftest import copy_repo

ROUNDS = sorted(p.name for p in (REPO / "rounds").iterdir() if p.is_dir())
runner = CliRunner()

pytestmark = pytest.mark.usefixtures("own_cache_home")  # tests.conftest: the cache on, in tmp_path


def run(*args: str) -> str:
    result = runner.invoke(app, ["score", *args])
    assert result.exit_code in (0, 1), result.output
    return f"{result.exit_code}\n{result.stdout}"


@pytest.fixture
def records_read(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The units whose score came from a finished record (appended as they are read)."""
    seen: list[str] = []
    original = compact.finished_score

    def counting(record, own, resolve):
        score = original(record, own, resolve)
        seen.append(score.unit.id)
        return score
    monkeypatch.setattr(compact, "finished_score", counting)
    return seen


def finished_entry(round_dir: Path) -> tuple[C.Cache, str]:
    """The round's cache and the name of its finished records' entry."""
    checked = outcomes.check(round_dir)
    assert checked.cache is not None
    return checked.cache, outcomes.finished_key(checked.plans[0])


@pytest.mark.parametrize("name", ROUNDS)
def test_warm_score_from_finished_records_equals_a_run_without_cache(name: str, tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch,
                                                                     records_read: list[str]) -> None:
    monkeypatch.chdir(copy_repo(tmp_path))
    round_dir = f"rounds/{name}"
    for options in ([], ["--format", "json"], ["--format", "csv", "--rank", "--by-category"]):
        expected = run(round_dir, "--no-cache", *options)
        del records_read[:]
        cold, warm, again = (run(round_dir, *options) for _ in range(3))
        assert cold == warm == again == expected, options
    if name != "example-county-2024":  # (its units are built from channels and subordinates: groups)
        assert records_read


def test_an_edit_that_moves_another_units_rank_bonus_finishes_it_again(tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch,
                                                                        records_read: list[str]) -> None:
    repo = copy_repo(tmp_path)
    monkeypatch.chdir(repo)
    round_dir = Path("rounds/yanjiang-2021")
    run(str(round_dir), "--format", "json")
    run(str(round_dir), "--format", "json")  # records written and read
    target = round_dir / "observations" / "baohe.yaml"  # 0.93 → first: education (3rd, 0.978) loses its bonus
    target.write_text(target.read_text(encoding="utf-8").replace("mailbox-satisfaction: 0.93",
                                                                 "mailbox-satisfaction: 0.999"), encoding="utf-8")
    del records_read[:]
    warm = run(str(round_dir), "--format", "json")
    assert "education" in records_read and "baohe" not in records_read  # read, then found stale
    assert warm == run(str(round_dir), "--format", "json", "--no-cache")
    assert '"bonus": "2"' in warm.split('"unit": "baohe"')[1].split('"unit":')[0]
    assert run(str(round_dir), "--format", "json") == warm


@pytest.mark.parametrize("damage", ["garbage", "old layout", "wrong key", "not a dict", "records not bytes",
                                    "short record"])
def test_corrupt_or_foreign_finished_records_fall_back(damage: str, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(copy_repo(tmp_path))
    round_dir = Path("rounds/suizhou-2021")
    expected = run(str(round_dir), "--format", "json", "--no-cache")
    assert run(str(round_dir), "--format", "json") == expected
    cache, key = finished_entry(round_dir)
    stored = msgpack.unpackb(cache.get(key), raw=False)
    records = {uid: msgpack.unpackb(blob, raw=False) for uid, blob in stored.items()}
    assert records and all(r[0] == compact.FINISHED for r in records.values())

    def packed(changed: dict) -> bytes:
        return msgpack.packb({uid: msgpack.packb(r) for uid, r in changed.items()})
    if damage == "garbage":
        payload = b"\xc1not msgpack"
    elif damage == "old layout":
        payload = packed({uid: ["f1", *r[1:]] for uid, r in records.items()})
    elif damage == "wrong key":  # a record made from other bytes of the file is not used
        payload = packed({uid: [r[0], "0" * 64, *r[2:]] for uid, r in records.items()})
    elif damage == "not a dict":
        payload = msgpack.packb(list(stored.values()))
    elif damage == "records not bytes":
        payload = msgpack.packb(records)
    else:
        payload = packed({uid: r[:7] for uid, r in records.items()})
    cache.put(key, payload)
    assert run(str(round_dir), "--format", "json") == expected
    assert run(str(round_dir), "--format", "json") == expected
    again = msgpack.unpackb(cache.get(key), raw=False)  # rewritten in the current layout
    assert again == stored


def test_a_record_of_a_changed_figure_is_not_trusted_without_its_key(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """A record is bound to its file's cache key: with a forged total under the right key it would be
    printed (the entry is signed, like every cache entry), so the key must change with the file."""
    monkeypatch.chdir(copy_repo(tmp_path))
    round_dir = Path("rounds/suizhou-2021")
    run(str(round_dir))
    run(str(round_dir))
    target = next((round_dir / "observations").glob("*.yaml"))
    target.write_text(target.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    assert run(str(round_dir)) == run(str(round_dir), "--no-cache")


def test_a_lazily_read_score_that_cannot_be_built_is_computed_again(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """With the round's records emptied, each unit's score is built from its packed outcome (read lazily
    from the cache); one that cannot be built is computed again from its file."""
    monkeypatch.chdir(copy_repo(tmp_path))
    round_dir = Path("rounds/shanwei-2020")
    expected = run(str(round_dir), "--format", "json", "--no-cache")
    run(str(round_dir))
    cache, key = finished_entry(round_dir)
    cache.put(key, msgpack.packb({}))
    from gapctl import codec

    def broken(outcome, resolve):
        raise codec.CodecError("unreadable score")
    monkeypatch.setattr(compact, "materialise", broken)
    computed = []
    original = outcomes.compute_outcome
    monkeypatch.setattr(outcomes, "compute_outcome", lambda plan, path: computed.append(path) or original(plan, path))
    assert run(str(round_dir), "--format", "json") == expected
    assert computed


def test_a_released_unit_whose_rank_bonus_moved_is_scored_again_from_its_file(tmp_path: Path,
                                                                            monkeypatch: pytest.MonkeyPatch,
                                                                            records_read: list[str]) -> None:
    """`score(release=True)` (the newer side of a diff) lets go of the packed summary of every unit it finished from
    its record; a unit whose rank bonus another unit's edit then moved is scored again from its own file, and the
    round is the round scored without a cache."""
    from gapctl.scoring.scoreboard import unit_row

    monkeypatch.chdir(copy_repo(tmp_path))
    round_dir = Path("rounds/yanjiang-2021")
    run(str(round_dir))  # the records written
    target = round_dir / "observations" / "baohe.yaml"  # 0.93 → first: education (3rd, 0.978) loses its bonus
    target.write_text(target.read_text(encoding="utf-8").replace("mailbox-satisfaction: 0.93",
                                                                 "mailbox-satisfaction: 0.999"), encoding="utf-8")
    computed: list[str] = []
    compute = outcomes.compute_outcome

    def counted(plan, path):
        computed.append(Path(path).name)
        return compute(plan, path)
    monkeypatch.setattr(outcomes, "compute_outcome", counted)
    del records_read[:]
    released = outcomes.score(outcomes.check(round_dir, light=True), release=True)
    assert "education" in records_read and "education.yaml" in computed  # read from its record, then its file
    expected = outcomes.score(outcomes.check(round_dir, use_cache=False))
    assert [unit_row(u) for u in released.units] == [unit_row(u) for u in expected.units]  # what score prints

    def leaves(scored, unit: str) -> list:  # a unit finished from its record holds its rank leaves only
        found = next(u for u in scored.units if u.unit.id == unit)
        return sorted((k, leaf.state, leaf.earned) for k, leaf in found.leaves.items())
    assert leaves(released, "education") == leaves(expected, "education")
