"""An observation file that is a symbolic link to a short text outside the repository.

Its content must never be printed (the audit saw "not text 'TOPSECRET-…'" in a CI log):
the link is refused before it is read. Made here because git cannot keep the target outside.
"""
import os
from pathlib import Path


def generate(case: Path) -> None:
    secret = case.parent / f"{case.name}-outside.yaml"
    secret.write_text("TOPSECRET-143\n", encoding="utf-8")
    link = case / "rounds/r/observations/town.yaml"
    link.unlink()
    link.symlink_to(os.path.relpath(secret, link.parent))
