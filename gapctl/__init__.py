"""gapctl: government-openness assessments (政务公开考核评估) as a plain-text data repository.

Public API: `load_round`, `check`, `validate`, `load`. Imports are lazy so that the
command line starts fast.
"""

from __future__ import annotations

import os

# Workbooks are read and written through openpyxl's standard-library XML path with defusedxml,
# whether or not lxml is installed (python-docx brings it): the same bytes out, the same refusals
# of entities in (gapctl.io.xlsx refuses to read a workbook when OPENPYXL_LXML=True is forced).
os.environ.setdefault("OPENPYXL_LXML", "False")

from gapctl.collector import paused_gc  # noqa: E402  (it imports gc alone)

# paused while the modules gapctl's first imports bring (typing, re, hashlib, ...) are imported and the kept class
# code is read: hundreds of objects and no garbage, and a collection every few hundred
with paused_gc(freeze=False):
    from gapctl import classcode  # (before any of gapctl's dataclasses is made)

    classcode.install()

__version__ = "0.2.0"
__all__ = ["load_round", "check", "validate", "load", "score", "__version__"]


def __getattr__(name: str) -> object:
    if name in ("load_round", "check", "score"):
        from gapctl import api
        return getattr(api, name)
    if name == "validate":
        from gapctl.scoring.validate import validate
        return validate
    if name == "load":
        from gapctl.scoring.load import load
        return load
    raise AttributeError(name)
