"""Display width of text in a terminal, so that columns with Chinese characters align."""

from __future__ import annotations

import itertools
import unicodedata
from collections.abc import Iterable, Iterator
from functools import lru_cache


def width(text: str) -> int:
    """Columns the text takes: East Asian wide and full-width characters take two."""
    if text.isascii():
        return len(text)
    return _wide_width(text)


@lru_cache(maxsize=8192)  # names, grades and unit types repeat down a table's rows
def _wide_width(text: str) -> int:
    total = 0
    for ch in text:
        if "\u4e00" <= ch <= "\u9fff":  # a CJK unified ideograph (most of a Chinese name): wide, not combining
            total += 2
        elif not unicodedata.combining(ch):
            total += 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1
    return total


def pad(text: str, columns: int, align: str = "left", text_width: int | None = None) -> str:
    gap = max(0, columns - (width(text) if text_width is None else text_width))
    return " " * gap + text if align == "right" else text + " " * gap


def table(rows: list[list[str]], aligns: list[str] | None = None, sep: str = "  ") -> list[str]:
    """Rows of cells → aligned lines (the first row is the header, underlined).

    Every cell is escaped for the terminal (`gapctl.escape.plain_line`: line breaks folded,
    bidi and control characters shown), so no value can break or reorder the table.
    """
    cols = max(map(len, rows), default=0)
    if not cols:
        return []
    rights = [a == "right" for a in (aligns or ["left"] * cols)[:cols]]
    if len(rights) < cols:
        raise IndexError("an alignment for every column")
    # column by column (`_aligned`'s lines, row by row, for a table spooled as it comes): a column's cells are
    # measured and padded at once, most of them ASCII (a score table has 3,000 rows of ten cells)
    padded, widths = [], []
    for n, column in enumerate(itertools.zip_longest(*rows, fillvalue="")):
        head, *body = _escaped(column)  # the header apart: a Chinese label over a column of figures
        head_width = len(head) if head.isascii() else _wide_width(head)
        if "".join(body).isascii():
            width = max(head_width, max(map(len, body), default=0))
            cells = [c.rjust(width) for c in body] if rights[n] else [c.ljust(width) for c in body]
        else:
            measured = [len(c) if c.isascii() else _wide_width(c) for c in body]
            width = max(head_width, max(measured, default=0))
            cells = [c.rjust(width + len(c) - w) for c, w in zip(body, measured, strict=True)] if rights[n] else \
                [c.ljust(width + len(c) - w) for c, w in zip(body, measured, strict=True)]
        extra = width + len(head) - head_width
        cells.insert(0, head.rjust(extra) if rights[n] else head.ljust(extra))
        padded.append(cells)
        widths.append(width)
    lines = [sep.join(cells).rstrip() for cells in zip(*padded, strict=True)]
    lines.insert(1, sep.join("-" * w for w in widths))  # the header's underline
    return lines


def _escaped(cells: Iterable[str]) -> list[str]:
    """Cells escaped for the terminal (a row's for `_measured`, a column's for `table`): all of them as they are when
    they are printable (tested on them joined), else each that is not through `escape.plain_line`."""
    cells = list(cells)
    if "".join(cells).isprintable():
        return cells
    from gapctl.escape import plain_line

    return [c if c.isprintable() else plain_line(c) for c in cells]


class SpooledTable:
    """A table too long to hold (a row for each of hundreds of thousands of problems): `add` its rows (header
    first) as they come, each measured (`_measured`) and kept in a temporary file, a batch at a time; `lines` then
    gives `table`'s lines, one at a time, from there."""

    BATCH = 1024

    def __init__(self) -> None:
        import tempfile

        self.file = tempfile.TemporaryFile()
        self.widths: list[int] = []
        self.batch: list[tuple[list[str], list[int]]] = []

    def add(self, row: list[str]) -> None:
        self.batch.append(_measured(row))
        if len(self.batch) == self.BATCH:
            self._flush()

    def _flush(self) -> None:
        import msgpack

        if self.batch:
            self.widths = [max(column) for column in itertools.zip_longest(
                self.widths, *(w for _, w in self.batch), fillvalue=0)]
            self.file.write(msgpack.packb(self.batch))
            self.batch = []

    def lines(self, aligns: list[str] | None = None, sep: str = "  ") -> Iterator[str]:
        import msgpack

        self._flush()
        self.file.seek(0)
        batches = msgpack.Unpacker(self.file, use_list=True)
        return _aligned((row for batch in batches for row in batch), self.widths, aligns, sep)

    def close(self) -> None:
        self.file.close()


def _aligned(measured: Iterable[tuple[list[str], list[int]]], widths: list[int], aligns: list[str] | None, sep: str
             ) -> Iterator[str]:
    """The lines of a table: its rows with their cells' widths (`_measured`), and its columns' widths."""
    if not widths:
        return
    cols = len(widths)
    aligns = aligns or ["left"] * cols
    rights = [aligns[i] == "right" for i in range(cols)]
    for n, (row, row_widths) in enumerate(measured):
        if len(row) < cols:
            row, row_widths = [*row, *[""] * (cols - len(row))], [*row_widths, *[0] * (cols - len(row))]
        # a cell padded to its column's width in display columns: str's own padding counts characters, so a
        # wide cell is given as many more characters as it takes columns less
        cells = [c.rjust(w + len(c) - cw) if right else c.ljust(w + len(c) - cw)
                 for c, cw, w, right in zip(row, row_widths, widths, rights, strict=True)]
        yield sep.join(cells).rstrip()
        if n == 0:
            yield sep.join("-" * w for w in widths)


def _measured(row: list[str]) -> tuple[list[str], list[int]]:
    """A row's cells escaped for the terminal and their widths. plain_line, width and pad inlined (same tests, same
    results): a table has a cell per unit and column. A row whose cells are all printable ASCII (tested on the row
    joined: both are per character) needs neither escaping nor width look-ups; the others are taken cell by cell."""
    row = _escaped(row)
    if "".join(row).isascii():
        return row, list(map(len, row))
    return row, [len(c) if c.isascii() else _wide_width(c) for c in row]
