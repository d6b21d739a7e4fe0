"""gapctl: government-openness assessments (政务公开考核评估) as a plain-text data repository.

Public API: `load_round`, `check`, `validate`, `load`. Imports are lazy so that the
command line starts fast.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.2.0"
__all__ = ["load_round", "check", "validate", "load", "score", "__version__"]


def __getattr__(name: str) -> Any:
    if name in ("load_round", "check", "score"):
        from gapctl import api
        return getattr(api, name)
    if name == "validate":
        from gapctl.validate import validate
        return validate
    if name == "load":
        from gapctl.load import load
        return load
    raise AttributeError(name)
