"""Messages in the language of the people who use gapctl: Chinese by default, English on request.

Contract. Text a user reads is written in the code in English and wrapped in `_()`:
`_("unknown key '{key}' in {what}").format(key=..., what=...)`. `_` returns the translation in
the current language: Chinese from the gettext catalogue `gapctl/locale/zh_CN/LC_MESSAGES/
gapctl.po` (compiled to `gapctl.mo` beside it; `./dev i18n` extracts, updates and compiles with
Babel), English as written. The language is `use(lang)` (the CLI's `--lang`), else the
environment variable `GAPCTL_LANG`, else the locale (`LC_ALL`, `LC_MESSAGES`, `LANG` starting
with `en`), else Chinese. Problem codes (E204 …) and file:line:col never change with it, so CI
logs and docs match in both languages. `tests/test_i18n.py` fails when a message has no Chinese.

Placeholders are named (`{key}`), never positional, so a translation may put them in its own
order. A message is translated where it is made; `in_lang(text, lang)` translates for an
explicit language (explain --lang, reports) without changing the current one.
"""

from __future__ import annotations

import gettext
import os
from functools import lru_cache
from pathlib import Path

LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "gapctl"
LANGS = ("zh", "en")
_chosen: str | None = None


def use(lang: str | None) -> None:
    """Set the language for what follows (the CLI calls it with `--lang`); None: from the environment."""
    global _chosen
    _chosen = lang if lang in LANGS else None


def lang() -> str:
    """"zh" or "en": `use()`, else GAPCTL_LANG, else the locale, else zh."""
    if _chosen is not None:
        return _chosen
    wanted = os.environ.get("GAPCTL_LANG", "").strip().lower()
    if wanted.startswith("en"):
        return "en"
    if wanted.startswith("zh"):
        return "zh"
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(name, "")
        if value:
            return "en" if value.lower().startswith("en") else "zh"
    return "zh"


@lru_cache(maxsize=4)
def _catalogue(language: str) -> gettext.NullTranslations:
    if language == "en":
        return gettext.NullTranslations()
    try:
        with open(LOCALE_DIR / "zh_CN" / "LC_MESSAGES" / f"{DOMAIN}.mo", "rb") as handle:
            return gettext.GNUTranslations(handle)
    except OSError:  # a build without its catalogue: English rather than nothing
        return gettext.NullTranslations()


def _(text: str) -> str:
    """`text` (English) in the current language."""
    return _catalogue(lang()).gettext(text)


def in_lang(text: str, language: str) -> str:
    """`text` (English) in `language` ("zh" or "en"), whatever the current language is; kept (a report's pages ask
    for the same labels thousands of times)."""
    found = _IN_LANG.get((text, language))
    if found is None:
        if len(_IN_LANG) >= 4096:
            _IN_LANG.clear()
        found = _IN_LANG[(text, language)] = _catalogue(language).gettext(text)
    return found


_IN_LANG: dict[tuple[str, str], str] = {}  # (text, language) → `in_lang`


def N_(text: str) -> str:
    """Marks text for the catalogue where it is declared; it is translated later, with `_()`."""
    return text
