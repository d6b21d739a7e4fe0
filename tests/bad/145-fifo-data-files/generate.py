"""FIFOs (named pipes) where gapctl expects data files: reading one would block forever.

git cannot store a FIFO, so they are made here: an observation file and an appeals file.
"""
import os
from pathlib import Path


def generate(case: Path) -> None:
    os.mkfifo(case / "rounds/r/observations/village.yaml")
    (case / "rounds/r/appeals").mkdir()
    os.mkfifo(case / "rounds/r/appeals/town.yaml")
