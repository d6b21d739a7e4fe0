"""git does not store empty directories: make rounds/ here."""
from pathlib import Path


def generate(case: Path) -> None:
    (case / "rounds").mkdir(exist_ok=True)
