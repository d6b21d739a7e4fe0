"""100,000 nested lists in the scheme (200 KB of brackets on one line)."""
from pathlib import Path


def generate(case: Path) -> None:
    path = case / "schemes/s.yaml"
    text = path.read_text(encoding="utf-8")
    deep = "[" * 100_000 + "]" * 100_000
    path.write_text(text.replace("indicators:", f"note: {deep}\nindicators:", 1), encoding="utf-8")
