"""10,000 nested mappings in the `note` of an observation file."""
from pathlib import Path


def generate(case: Path) -> None:
    path = case / "rounds/r/observations/town.yaml"
    text = path.read_text(encoding="utf-8")
    deep = "{a: " * 10_000 + "1" + "}" * 10_000
    path.write_text(text.replace("results:", f"note: {deep}\nresults:", 1), encoding="utf-8")
