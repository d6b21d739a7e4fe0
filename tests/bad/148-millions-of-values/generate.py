"""An observation file holding 300,000 values in one list, with the limit lowered to 100,000.

Refused from libyaml's event stream before anything is composed (4.56 M values once took 12 GB
and three minutes, then blamed aliases); the lowered limit keeps the case fast.
"""
from pathlib import Path


def generate(case: Path) -> None:
    path = case / "rounds/r/observations/town.yaml"
    text = path.read_text(encoding="utf-8")
    values = ", ".join(["1"] * 300_000)
    path.write_text(text.replace("results:", f"note: [{values}]\nresults:", 1), encoding="utf-8")
