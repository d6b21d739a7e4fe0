"""10,000 nested lists in the `note` of an observation file (20 KB of brackets)."""
from pathlib import Path


def generate(case: Path) -> None:
    path = case / "rounds/r/observations/town.yaml"
    text = path.read_text(encoding="utf-8")
    deep = "[" * 10_000 + "]" * 10_000
    path.write_text(text.replace("results:", f"note: {deep}\nresults:", 1), encoding="utf-8")
