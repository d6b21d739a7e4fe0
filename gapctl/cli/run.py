"""`main`, the entry point: run the app; what stops it from running becomes one line and exit code 3."""

from __future__ import annotations

import copy
import os
import sys
from pathlib import Path

import typer

from gapctl.cli.common import app
from gapctl.i18n import _


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the app; what stops it from running becomes one line and exit code 3.

    A full disk, a failed memory allocation or git that cannot read a revision is said as such.
    Anything else is a bug: the traceback, gapctl's and Python's versions and the command line go
    to a crash report under the user's cache directory (never the repository) and the line says
    where. GAPCTL_DEBUG=1 lets the exception through instead, traceback and all.
    """
    from gapctl import i18n
    args = sys.argv[1:] if argv is None else argv
    for n, arg in enumerate(args):  # --lang before anything is printed, even help
        if arg == "--lang" and n + 1 < len(args):
            i18n.use(args[n + 1])
        elif arg.startswith("--lang="):
            i18n.use(arg.split("=", 1)[1])
    try:
        _app_for(args)(args=argv, prog_name="gapctl")
    except SystemExit:
        raise
    except KeyboardInterrupt:
        typer.echo(_("interrupted"), err=True)
        sys.exit(130)
    except Exception as err:  # not bad data (that is exit 1 with problem lines): gapctl could not run
        from gapctl.data.writes import DiskFull
        from gapctl.scoring.executors import CannotRun
        if isinstance(err, DiskFull | CannotRun):  # no space (the old files are as they were); a cluster failed
            typer.echo(_("gapctl: could not run: {error}").format(error=err), err=True)
            sys.exit(3)
        if os.environ.get("GAPCTL_DEBUG"):
            raise
        typer.echo(_could_not_run(err, sys.argv[1:] if argv is None else argv), err=True)
        sys.exit(3)


def _app_for(args: list[str]) -> typer.Typer:
    """`app`, or when the command line starts with a command's name, a copy of it holding that command alone:
    typer builds a click command of every command's options before it runs one (~10 ms of each run's start). The
    same help, usage and errors for that command: only a command line that names one, not completion."""
    if not args or args[0].startswith("-") or any(name.endswith("_COMPLETE") for name in os.environ):
        return app
    from typer.main import get_command_name

    commands = [c for c in app.registered_commands if c.name == args[0]
                or c.name is None and c.callback is not None and get_command_name(c.callback.__name__) == args[0]]
    groups = [g for g in app.registered_groups if (g.name or g.typer_instance.info.name) == args[0]]
    if len(commands) + len(groups) != 1:
        return app
    only = copy.copy(app)
    only.registered_commands, only.registered_groups = commands, groups
    return only


def _could_not_run(err: Exception, argv: list[str]) -> str:
    """The one line `main` prints for an exception that stopped a command (writing a crash report for a bug)."""
    import errno

    from gapctl.data.tree import GitError
    from gapctl.escape import plain_line

    if isinstance(err, OSError) and err.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)):
        if err.filename:
            return plain_line(_("gapctl: could not run: no space left on the device ({path}); nothing else was "
                                "changed").format(path=err.filename))
        return _("gapctl: could not run: no space left on the device; nothing else was changed")
    if isinstance(err, MemoryError):
        return _("gapctl: could not run: out of memory")
    if isinstance(err, GitError):
        return plain_line(_("gapctl: could not run: {error}").format(error=err))
    report = _crash_report(err, argv)
    where = _("the crash report is {path}").format(path=report) if isinstance(report, Path) else \
        _("no crash report could be written ({reason}); rerun with GAPCTL_DEBUG=1 for the traceback").format(
            reason=report)
    return plain_line(_("gapctl: internal error ({error}), a bug in gapctl: {where}").format(
        error=type(err).__name__, where=where))


def _crash_directory() -> Path:
    """$XDG_CACHE_HOME/gapctl (else ~/.cache/gapctl), or the system's temporary directory when that
    is inside the working directory's repository: a crash report is never committed by mistake."""
    import tempfile

    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache").absolute() / "gapctl"
    cwd = Path.cwd().resolve()
    for top in [cwd, *cwd.parents]:
        if any((top / name).exists() for name in (".git", "schemes", "units", "rounds")):
            if base.resolve() == top or top in base.resolve().parents:
                return Path(tempfile.gettempdir()).resolve() / "gapctl"
            break
    return base


def _crash_report(err: Exception, argv: list[str]) -> Path | str:
    """Write the traceback and what it ran on to crash-<time>.txt; its path, or why it could not be written."""
    import datetime as dt
    import platform
    import traceback

    from gapctl import __version__

    now = dt.datetime.now(dt.UTC)
    text = "\n".join([
        f"gapctl {__version__} crashed at {now.isoformat(timespec='seconds')}",
        f"command line: gapctl {' '.join(argv)}",
        f"python: {sys.version.split()[0]} ({sys.executable}) on {platform.platform()}",
        f"working directory: {os.getcwd()}",
        "",
        "".join(traceback.format_exception(err)),
        "Please send this file with a bug report to gapctl's maintainers; it holds the command line and",
        "the traceback, which may name files of your repository, and nothing of their content.",
        ""])
    try:
        directory = _crash_directory()
        directory.mkdir(parents=True, exist_ok=True)
        stamp = now.strftime("%Y%m%dT%H%M%SZ")
        for n in range(100):
            path = directory / f"crash-{stamp}{f'-{n}' if n else ''}.txt"
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
            except FileExistsError:
                continue
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                out.write(text)
            return path
        return "too many crash reports this second"
    except OSError as error:
        return error.strerror or str(error)
