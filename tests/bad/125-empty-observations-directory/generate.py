"""git does not store empty directories: make observations/ here."""
from pathlib import Path


def generate(case: Path) -> None:
    (case / "rounds/r/observations").mkdir(parents=True, exist_ok=True)
