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

import gc as _gc

# Importing typer and the commands' modules makes tens of thousands of objects and no garbage: the collector ran
# ~30 times over them (~7 ms of every command's start). It is paused while they are imported, and left as it was.
_COLLECTING = _gc.isenabled()
_gc.disable()
try:
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
finally:
    if _COLLECTING:
        _gc.enable()


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


__all__ = ["app", "main"]
