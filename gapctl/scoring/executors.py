"""Where the per-file work runs: here (one process, or a forked pool on every core), or on a Dask
cluster when a round is larger than one machine (`--executor dask --scheduler ADDRESS`).

Who calls it: `gapctl.scoring.outcomes` (the outcomes of `validate` and `score`) and `gapctl.io.columnar`
(the Parquet parts of `export`) hand it batches of files and a context (`gapctl.scoring.pipeline.Plan`),
and take back one result per batch. What it guarantees:

- the work is a pure function of a file's bytes and the context: the parent reads every file and
  sends its bytes with the batch, so workers need no access to the repository, and the context is
  sent once to each worker (`scatter`, broadcast);
- results travel as bytes (an outcome as the cache stores it, a Parquet part as written) and the
  caller puts them in path order, whatever order batches finish in: output is byte-identical to
  the local executor's;
- at most a few batches per worker thread are in flight, so the parent never holds the round's
  bytes at once;
- the workers run the same gapctl: on connecting, each worker's code fingerprint
  (`gapctl.data.cache.code_fingerprint`) is compared with this one's, and a mismatch stops the command.

What it refuses: `dask.distributed` is an optional extra (`pip install 'gapctl[cluster]'`),
imported only when chosen; without it, with a scheduler that cannot be reached, or when a worker
dies, `CannotRun` carries one line and the CLI exits 3. Importing this module imports nothing
beyond the standard library.
"""

from __future__ import annotations

import atexit
import contextlib
import os
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from gapctl.i18n import _

LOCAL, DASK = "local", "dask"
NAMES = (LOCAL, DASK)
IN_FLIGHT = 3  # batches per worker thread submitted ahead; more holds more bytes for no gain
CONNECT_SECONDS = 20

Item = tuple[int, Path, bytes | None]  # (index in the round's file list, path, bytes; None: read it here)


class CannotRun(Exception):
    """The chosen executor cannot run the work; the message is one line (exit 3)."""


_chosen: DaskExecutor | None = None


def chosen() -> DaskExecutor | None:
    """The cluster the per-file work goes to, or None for this machine."""
    return _chosen


def use(name: str, scheduler: str | None = None) -> None:
    """Choose where the per-file work runs for the rest of this process; connects at once, so that a
    missing package or an unreachable scheduler is said before any work. Raises CannotRun, ValueError
    (a usage error: an unknown executor, or dask without a scheduler)."""
    global _chosen
    close()
    if name == LOCAL:
        return
    if name != DASK:
        raise ValueError(_("unknown executor {name}; expected local or dask").format(name=name))
    address = scheduler or os.environ.get("DASK_SCHEDULER_ADDRESS")
    if not address:
        raise ValueError(_("--executor dask needs --scheduler ADDRESS (e.g. tcp://10.0.0.5:8786)"))
    executor = DaskExecutor(address)
    executor.connect()
    _chosen = executor
    atexit.unregister(close)  # once, however often a process chooses
    atexit.register(close)


def close() -> None:
    global _chosen
    if _chosen is not None:
        _chosen.close()
        _chosen = None


def distributed_module() -> Any:
    """`dask.distributed`, or CannotRun saying how to install it."""
    try:
        import distributed
    except ImportError:
        raise CannotRun(_("--executor dask needs dask.distributed, which is not installed: "
                          "pip install 'gapctl[cluster]'")) from None
    return distributed


class DaskExecutor:
    """Batches of files on a `dask.distributed` cluster."""

    def __init__(self, address: str) -> None:
        self.address = address
        self.client: Any = None
        self.threads = 1

    def connect(self) -> None:
        distributed = distributed_module()
        try:
            self.client = distributed.Client(self.address, timeout=CONNECT_SECONDS, set_as_default=False)
        except (OSError, TimeoutError) as err:
            raise CannotRun(_("cannot reach the Dask scheduler at {address}: {error}").format(
                address=self.address, error=str(err) or type(err).__name__)) from None
        from gapctl.data.cache import code_fingerprint

        ours = code_fingerprint()
        theirs = self.client.run(code_fingerprint)
        if not theirs:
            self.close()
            raise CannotRun(_("the Dask scheduler at {address} has no workers").format(address=self.address))
        if any(value != ours for value in theirs.values()):
            self.close()
            raise CannotRun(_("the Dask workers run another version of gapctl than this one; install the same "
                              "gapctl on every worker"))
        self.threads = max(1, sum(self.client.nthreads().values()))

    def close(self) -> None:
        if self.client is not None:
            try:
                self.client.close()
            except Exception:  # closing a client whose scheduler went away: nothing left to do
                pass
            self.client = None

    def map(self, fn: Callable[[Any, list[Item], Any], Any], context: Any,
            jobs: Iterable[tuple[list[Item], Any]]) -> Iterator[tuple[list[Item], Any]]:
        """`fn(context, items, extra)` for each job (items, extra), on the cluster; yields each job's
        items (their bytes dropped) with its result, as jobs finish. The parent reads every file
        whose bytes are None just before its job is submitted."""
        distributed = distributed_module()
        client = self.client
        try:
            shared = client.scatter(context, broadcast=True, hash=False)
            done = distributed.as_completed(loop=client.loop)
            sent: dict[str, list[Item]] = {}
            pending = iter(jobs)

            def submit() -> bool:
                job = next(pending, None)
                if job is None:
                    return False
                items, extra = job
                loaded = [(index, path, data if data is not None else _read(path)) for index, path, data in items]
                future = client.submit(fn, shared, loaded, extra, pure=False)
                sent[future.key] = [(index, path, None) for index, path, _data in items]
                done.add(future)
                return True

            for _n in range(self.threads * IN_FLIGHT):
                if not submit():
                    break
            for future in done:
                result = future.result()
                items = sent.pop(future.key)
                future.release()
                submit()
                yield items, result
        except CannotRun:
            raise
        except (OSError, TimeoutError) as err:
            raise CannotRun(_("the Dask cluster at {address} failed: {error}").format(
                address=self.address, error=str(err) or type(err).__name__)) from None
        except Exception as err:
            if type(err).__module__.startswith("distributed"):  # a worker died (KilledWorker) and the like
                raise CannotRun(_("the Dask cluster at {address} failed: {error}").format(
                    address=self.address, error=str(err) or type(err).__name__)) from None
            raise

    def outcomes(self, plan: Any, batches: list[list[int]]) -> Iterator[list[tuple[int, bytes | None, str | None,
                                                                                    str | None, None]]]:
        """`gapctl.scoring.outcomes`' batches of file indexes as (index, payload, key, content hash, None) results,
        as its pool gives them (the files are read here: their hashes are this process's)."""
        from gapctl.data.sources import over_limit
        from gapctl.scoring import outcomes, pipeline

        paths = outcomes.round_paths(plan)
        local: list[int] = []  # refused or unreadable here: the parent computes them (and says why)
        jobs = []
        for batch in batches:
            items = []
            for index in batch:
                if over_limit(paths[index]):
                    local.append(index)
                else:
                    items.append((index, paths[index], None))
            if items:
                jobs.append((items, None))
        if local:
            yield [(index, None, None, None, None) for index in local]
        keys: dict[int, str] = {}  # made here from the bytes sent, so a worker's own keys never matter
        unread: list[int] = []
        for _items, result in self.map(pipeline.outcome_batch, pipeline.Plan.of(plan), _keyed(plan, jobs, keys,
                                                                                                 unread)):
            yield [(index, payload, keys.get(index) if cacheable else None, plan.hashes.get(paths[index]), None)
                   for index, payload, cacheable in result]
        if unread:
            yield [(index, None, None, None, None) for index in unread]


def _keyed(plan: Any, jobs: list[tuple[list[Item], Any]], keys: dict[int, str],
           unread: list[int]) -> Iterator[tuple[list[Item], Any]]:
    """The jobs with their files read here, each file's cache key put in `keys`; a file that cannot be
    read goes to `unread` instead, for the parent to compute (and report why)."""
    from gapctl.scoring import outcomes
    for items, extra in jobs:
        loaded: list[Item] = []
        for index, path, _data in items:
            try:
                data = _read(path)
            except OSError:
                unread.append(index)
                continue
            loaded.append((index, path, data))
            keys[index] = outcomes.outcome_key(plan, path, data)
        if loaded:
            yield loaded, extra


def _read(path: Path) -> bytes:
    from gapctl.data.reads import read_bytes
    return read_bytes(path)


# --- this machine ------------------------------------------------------------------------------------

_LOCAL_CONTEXT: tuple[Callable[..., Any], Any] | None = None  # what a forked worker inherits


def _local_call(job: tuple[list[Item], Any]) -> tuple[list[Item], Any]:
    assert _LOCAL_CONTEXT is not None
    fn, context = _LOCAL_CONTEXT
    items, extra = job
    return items, fn(context, items, extra)


def map_here(fn: Callable[[Any, list[Item], Any], Any], context: Any, jobs: list[tuple[list[Item], Any]],
             workers: int) -> Iterator[tuple[list[Item], Any]]:
    """`fn(context, items, extra)` for each job in this process, or in `workers` forked workers
    (which inherit the context instead of receiving it); yields (items, result) as jobs finish."""
    global _LOCAL_CONTEXT
    if workers <= 1 or len(jobs) <= 1 or not hasattr(os, "fork"):
        for items, extra in jobs:
            yield items, fn(context, items, extra)
        return

    _LOCAL_CONTEXT = (fn, context)
    try:
        with forked_pool(min(workers, len(jobs))) as pool:
            yield from pool.imap_unordered(_local_call, jobs)
    finally:
        _LOCAL_CONTEXT = None


WORKER_BATCHES = 32  # batches a forked worker takes before a fresh fork replaces it (see batches_per_worker)
RENEWED_FROM = 10_000  # files of a pool's work from which its workers are forked again (see batches_per_worker)


def batches_per_worker(files: int | None = None) -> int | None:
    """Batches a forked worker takes before a fresh fork replaces it, in a pool working on a round of `files` files
    (or units; None: not known), or None: never. Each file a worker reads, scores or renders touches its unit's
    objects in the parent's memory (reference counts), and the page each lives on is then copied into the worker:
    a long-lived worker ends up with a private copy of every page holding the round's units (~100 MB each at
    30,000 units). From RENEWED_FROM files (or not knowing how many) a worker is forked again after WORKER_BATCHES
    batches (~500 files), sharing them again; below it the copies stay small, and a fresh fork saves nothing: it
    forks, and starts with its memos empty (a cold score of 3,000 units 0-0.15 s sooner without, timed alternately,
    its tree's peak 75 MB instead of 80).
    GAPCTL_WORKER_BATCHES, when set, applies to any pool (0: never)."""
    wanted = os.environ.get("GAPCTL_WORKER_BATCHES")
    if wanted is None:
        return WORKER_BATCHES if files is None or files >= RENEWED_FROM else None
    try:
        value = int(wanted)
    except ValueError:
        value = WORKER_BATCHES
    return value if value > 0 else None


def trim_heap() -> None:
    """Give the C heap's free pages back to the system (glibc's malloc_trim) before forking workers: a worker's
    allocations otherwise reuse free chunks lying in the parent's pages, and each page written is copied into the
    worker (at 30,000 units the report's page workers each copied ~75 MB of the parent's heap that way). Nothing
    where there is no glibc."""
    try:
        import ctypes

        ctypes.CDLL(None).malloc_trim(0)
    except (OSError, AttributeError):  # not glibc (macOS, musl without it)
        pass


@contextlib.contextmanager
def shared_with_forks() -> Iterator[None]:
    """For the block, what this process holds kept out of the collections of the workers it forks there (a
    collection, then gc.freeze: a collection in a worker would write every tracked object's header, copying the
    pages it shares with this process) and the C heap's free pages given back first (`trim_heap`); unfrozen after."""
    import gc

    gc.collect()
    gc.freeze()
    trim_heap()
    try:
        yield
    finally:
        gc.unfreeze()


@contextlib.contextmanager
def forked_pool(workers: int, renewed: bool = True, files: int | None = None) -> Iterator[Any]:
    """A pool of `workers` forked workers (they inherit what the parent holds), each replaced by a fresh fork
    after `batches_per_worker(files)` batches (`renewed`; else kept to the end; `files`: how many files or units
    the round has, whose objects the parent holds, even when the pool works on a few of them; None: not known):
    every pool of gapctl's is made here. Ended as a `with` block ends a Pool (terminated), given END_WAIT seconds
    (`_ended`)."""
    import multiprocessing  # only here: small rounds never pay for importing it

    pool = multiprocessing.get_context("fork").Pool(workers,
                                                    maxtasksperchild=batches_per_worker(files) if renewed else None)
    try:
        yield pool
    finally:
        _ended(pool)


END_WAIT = 10.0  # seconds a pool's terminate is given (`_ended`)


def _ended(pool: Any, wait: float = END_WAIT) -> None:
    """`pool.terminate()`, given `wait` seconds. CPython's terminate kills the workers, then waits for the pool's
    task thread, which first sends its end marker through the queue the workers send their results by: a worker
    killed while it held that queue's lock (sending a result as the pool ended it after an error) left it held, and
    the wait never ended (seen once in ~50 runs of a test whose page worker fails, under load). By the time the
    wait can hang the workers are killed; the pool's threads are daemons and do not keep the process alive."""
    import threading

    ender = threading.Thread(target=pool.terminate, name="gapctl-pool-end", daemon=True)
    ender.start()
    ender.join(wait)


_ORDERED: tuple[Callable[..., Any], Any] | None = None  # what `in_order`'s forked workers inherit


def _ordered_call(batch: Any) -> Any:
    assert _ORDERED is not None
    fn, context = _ORDERED
    return fn(context, batch)


def in_order(fn: Callable[[Any, Any], list[Any]], context: Any, batches: list[Any], workers: int) -> Iterator[Any]:
    """`fn(context, batch)` (a list of results) for each batch, the results yielded one by one in the batches'
    order: in this process, or in `workers` forked workers that inherit the context and are forked again
    after `batches_per_worker()` batches each (from RENEWED_FROM items in all, when the batches are lists)."""
    global _ORDERED
    if workers <= 1 or len(batches) <= 1 or not hasattr(os, "fork"):
        for batch in batches:
            yield from fn(context, batch)
        return
    _ORDERED = (fn, context)
    try:
        files = sum(len(batch) for batch in batches) if all(isinstance(b, list) for b in batches) else None
        with forked_pool(min(workers, len(batches)), files=files) as pool:
            for results in pool.imap(_ordered_call, batches):
                yield from results
    finally:
        _ORDERED = None


def run(fn: Callable[[Any, list[Item], Any], Any], context: Any, jobs: list[tuple[list[Item], Any]],
        workers: int) -> Iterator[tuple[list[Item], Any]]:
    """The jobs on the chosen cluster, else here (see `map_here`)."""
    remote = chosen()
    if remote is not None:
        return remote.map(fn, context, jobs)
    return map_here(fn, context, jobs, workers)
