"""units/ is a symbolic link to a directory outside the repository: every file under it is refused."""
import os
import shutil
from pathlib import Path


def generate(case: Path) -> None:
    outside = case.parent / f"{case.name}-outside-units"
    shutil.move(case / "units", outside)
    (case / "units").symlink_to(os.path.relpath(outside, case), target_is_directory=True)
