"""Help pages in the user's language: written in English in gapctl.cli, shown translated.

Who calls it: gapctl.cli, once: its typer app is an `App`, whose commands are `Command`s and
whose groups (the root, `evidence`, `new`) are `Group`s. Nothing else.

Why at print time. typer's decorators run when gapctl.cli is imported, before the language is
known: `main()` scans argv for `--lang` only after the import, the root `--lang` is an eager
option processed while the command line is parsed, GAPCTL_LANG may be set by a test's runner.
A help page is formatted after all of them have spoken, so that is when its texts are translated.

Contract. Every help text (a command's, a group's, each option's and argument's) is written in
English inside `N_()`, so that `./dev i18n` extracts it, and exactly as typer shows it: flush
left and without a trailing newline (typer passes a command's help through `inspect.cleandoc`,
and the text shown is the key looked up in the catalogue). While a page is formatted, each of
those texts is replaced by `_()` of it (each paragraph joined into one line for the terminal to
wrap; examples keep their lines), and so are click's and typer's own words (Usage, Arguments,
Options, Commands, [default: …], [required], the help and completion options, and text folded
rather than cut where a table cell is narrower than a Chinese sentence); when the page is
done every text is as it was, so one process can print help in both languages (the tests do). A
text without a translation is shown in English, never as nothing. Usage errors (click's "Missing
argument" and the like) stay in English.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import typer
import typer.core

from gapctl.cli import params as cli_params
from gapctl.i18n import N_, _

cli_params.install()  # typer's value coercion without importing pydantic (see gapctl.cli.params)

# click's and typer's help words that gapctl's catalogue translates (typer writes them in English)
FIXED_HELP = (
    N_("Show this message and exit."),
    N_("Install completion for the current shell."),
    N_("Show completion for the current shell, to copy it or customize the installation."),
)
USAGE = N_("Usage:")
# typer.rich_utils' constants, by name: (English as typer has it, gapctl's msgid)
RICH_WORDS = {
    "ARGUMENTS_PANEL_TITLE": N_("Arguments"),
    "OPTIONS_PANEL_TITLE": N_("Options"),
    "COMMANDS_PANEL_TITLE": N_("Commands"),
    "REQUIRED_LONG_STRING": N_("[required]"),
}
DEFAULT_WORDS = N_("[default: {value}]")  # typer's "[default: {}]", named here so a translation may move it


@contextmanager
def translated(command: Any, ctx: Any) -> Iterator[None]:
    """While the body runs: the help texts of `command`, its parameters and (for a group) its
    subcommands, and typer's panel words, in the current language; afterwards as they were."""
    saved: list[tuple[Any, str, Any]] = []

    def swap(owner: Any, attr: str, value: Any) -> None:
        saved.append((owner, attr, getattr(owner, attr)))
        setattr(owner, attr, value)

    owners = [command, *command.get_params(ctx)]
    if hasattr(command, "list_commands"):
        owners += [c for c in (command.get_command(ctx, n) for n in command.list_commands(ctx)) if c is not None]
    for owner in owners:
        for attr in ("help", "short_help"):
            text = getattr(owner, attr, None)
            if isinstance(text, str) and text:
                swap(owner, attr, reflow(_(text)))
    if typer.core.HAS_RICH:
        from typer import rich_utils

        for name, word in RICH_WORDS.items():
            swap(rich_utils, name, _(word))
        swap(rich_utils, "DEFAULT_STRING", _(DEFAULT_WORDS).replace("{value}", "{}"))
        swap(rich_utils, "_make_rich_text", _folding(rich_utils._make_rich_text))
    try:
        yield
    finally:
        for owner, attr, value in reversed(saved):
            setattr(owner, attr, value)


def reflow(text: str) -> str:
    """Paragraphs as one line each, for the terminal to wrap (the source wraps them at 120 columns);
    a paragraph with an indented line (examples) keeps its lines."""
    paragraphs = text.split("\n\n")
    return "\n\n".join(p if any(line.startswith(" ") for line in p.splitlines()) else " ".join(p.split("\n"))
                       for p in paragraphs)


def _folding(make: Any) -> Any:
    """typer's `_make_rich_text`, its Text folded rather than cut with "…" where a table cell is too
    narrow: rich breaks lines at spaces only, and a Chinese sentence has none."""
    def make_folding(**kwargs: Any) -> Any:
        text = make(**kwargs)
        if getattr(text, "overflow", "") is None:
            text.overflow = "fold"
        return text
    return make_folding


class _Translating:
    """What `Command` and `Group` add to typer's classes: the page and the usage line translated."""

    def format_help(self, ctx: Any, formatter: Any) -> None:
        with translated(self, ctx):
            super().format_help(ctx, formatter)  # type: ignore[misc]

    def format_usage(self, ctx: Any, formatter: Any) -> None:
        pieces = self.collect_usage_pieces(ctx)  # type: ignore[attr-defined]
        formatter.write_usage(ctx.command_path, " ".join(pieces), prefix=_(USAGE) + " ")


class Command(_Translating, typer.core.TyperCommand):
    """A command whose help page is shown in the current language."""


class Group(_Translating, typer.core.TyperGroup):
    """A group whose help page (its commands' summaries included) is shown in the current language."""


class App(typer.Typer):
    """typer.Typer whose groups and commands translate their help (`Group`, `Command`)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("cls", Group)
        super().__init__(**kwargs)

    def command(self, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        kwargs.setdefault("cls", Command)
        return super().command(*args, **kwargs)
