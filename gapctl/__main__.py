import sys

from gapctl.scoring import warm

# `gapctl score` on an unchanged repository: its last output, before the command line (typer) is even imported
if not warm.replayed(sys.argv[1:]):
    from gapctl.cli import ended, run

    def _run() -> None:
        try:
            run.main()
        finally:
            warm.forget()

    ended(_run)  # the process ends here, unless the exit is a message or a stream cannot be flushed
