import sys

from gapctl.scoring import warm

# `gapctl score` on an unchanged repository: its last output, before the command line (typer) is even imported
if not warm.replayed(sys.argv[1:]):
    from gapctl.cli import finish, run

    try:
        run.main()
    except SystemExit as stop:
        warm.forget()
        finish(stop.code)  # the process ends here, unless the code is a message or a stream cannot be flushed
        raise
    finally:
        warm.forget()
    finish(0)
