"""The command line: one module per command or command group, each a thin layer over the library.

Owns: the typer `app` and its options (`common`), the help pages in the user's language (`help`),
typer's value coercion without pydantic (`params`), the commands, and `main` (`run`: exit codes,
"could not run" and crash reports).

May import: everything below it (`gapctl.data`, `gapctl.scheme`, `gapctl.scoring`, `gapctl.api`,
`gapctl.io`, `gapctl.review`, `gapctl.process`, `gapctl.report` and the base modules), but only
inside the command functions: at import time a command module imports typer, the catalogue and
`common`, so `gapctl --help` and `--version` load none of the library (tests/test_startup.py).
Nothing below imports `gapctl.cli`.
"""

from collections.abc import Callable

from gapctl.collector import paused_gc

# Importing typer and the commands' modules makes tens of thousands of objects and no garbage: the collector ran
# ~30 times over them (~7 ms of every command's start).
with paused_gc(freeze=False):
    # The commands register themselves on `app` when their module is imported, in this order: the
    # order `gapctl --help` lists them in (isort must not sort it).
    # isort: off
    from gapctl.cli import (  # noqa: F401  (imported for their commands)
        validate,
        show,
        score,
        report,
        fmt,
        diff,
        status,
        evidence,
        process,
        trend,
        schema,
        export,
        imports,
        scaffold,
        robustness,
        verify,
    )
    # isort: on
    from gapctl.cli import run
    from gapctl.cli.common import app


def main(argv: list[str] | None = None) -> None:
    """The `gapctl` entry point: `run.main`, unless `gapctl score`'s last output on an unchanged repository
    answers the command line (gapctl.scoring.warm)."""
    import sys

    from gapctl.scoring import warm
    try:
        if not warm.replayed(sys.argv[1:] if argv is None else list(argv)):
            run.main(argv)
    finally:
        warm.forget()


def entry(argv: list[str] | None = None) -> None:
    """The `gapctl` console script: `main`, then the process ends without taking apart what the command built."""
    ended(lambda: main(argv))


def ended(command: Callable[[], None]) -> None:
    """Run `command` (a command line), then end the process with its exit status (`finish`): the console script's
    and `python -m gapctl`'s way out."""
    try:
        command()
    except SystemExit as stop:
        finish(stop.code)
        raise
    finish(0)


def finish(code: object) -> None:
    """End the process with exit status `code` as the interpreter would, less its teardown: non-daemon threads are
    waited for, every atexit function runs (weakref finalizers, temporary directories, pools and clients among
    them), stdout and stderr are flushed, and then the process exits without freeing each of the objects the
    command built (~10 ms at 3,000 units, more at 30,000). A code that is not a number (a message), or a stream
    that cannot be flushed (a closed pipe), returns: the caller exits as the interpreter does then."""
    import atexit
    import os
    import sys

    if code is None:
        code = 0
    if type(code) is not int:
        return
    threading = sys.modules.get("threading")
    if threading is not None:
        threading._shutdown()  # type: ignore[attr-defined]
    atexit._run_exitfuncs()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):
        return
    os._exit(code & 0xFF)


__all__ = ["app", "ended", "entry", "finish", "main"]
