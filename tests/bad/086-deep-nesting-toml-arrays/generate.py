"""10,000 nested arrays in round.toml."""
from pathlib import Path


def generate(case: Path) -> None:
    path = case / "rounds/r/round.toml"
    text = path.read_text(encoding="utf-8")
    deep = "[" * 10_000 + "]" * 10_000
    path.write_text(text.replace('units = "u"\n', f'units = "u"\nnote = {deep}\n', 1), encoding="utf-8")
