"""git does not store empty directories: make rounds/r here."""
from pathlib import Path


def generate(case: Path) -> None:
    (case / "rounds/r").mkdir(parents=True, exist_ok=True)
