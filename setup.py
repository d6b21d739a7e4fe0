"""Build step that puts gapctl's example data and CI templates into the package.

The shipped schemes, their unit sets, the example rounds' round.toml (which unit set goes with
which scheme) and the CI templates live at the top of the repository, where they are its own
example data; a wheel only carries what is under gapctl/. So `build_py` copies them into
`gapctl/_shipped/` in the build directory, keeping their relative paths, and gapctl.data.shipped
reads them there with importlib.resources. Globs, not lists: whatever matches at build time
ships. The sdist carries the same files (MANIFEST.in), so a wheel built from it is the same.

Editable installs copy nothing: gapctl.data.shipped reads the checkout then. Everything else about
the project is in pyproject.toml; this file only adds the command.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
SHIPPED = ("schemes/*.yaml", "units/*.yaml", "rounds/*/round.toml", ".github/workflows/gapctl*.yml",
           ".pre-commit-hooks.yaml")  # keep in step with MANIFEST.in


def shipped_files() -> list[str]:
    """Paths relative to the repository, sorted. Below the first directory, nothing hidden: a
    `rounds/.staging/` copy or a `.draft.yaml` is not shipped (gapctl does not load those either)."""
    found = {path.relative_to(HERE).as_posix() for pattern in SHIPPED for path in HERE.glob(pattern)
             if path.is_file()}
    return sorted(rel for rel in found if not any(part.startswith(".") for part in rel.split("/")[1:]))


class BuildWithShippedData(build_py):
    """build_py, then the shipped files into <build_lib>/gapctl/_shipped/ (cleared first, so a
    file deleted from the repository does not linger in a reused build directory)."""

    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return
        target = Path(self.build_lib) / "gapctl" / "_shipped"
        shutil.rmtree(target, ignore_errors=True)
        for rel in shipped_files():
            destination = target / rel
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(HERE / rel, destination)

    def get_outputs(self, include_bytecode: bool = True) -> list[str]:
        outputs = super().get_outputs(include_bytecode)
        if getattr(self, "editable_mode", False):
            return outputs
        return outputs + [str(Path(self.build_lib) / "gapctl" / "_shipped" / rel) for rel in shipped_files()]


setup(cmdclass={"build_py": BuildWithShippedData})
