"""Messages in two languages: every message the code can print has its Chinese, the compiled
catalogue is current, placeholders survive translation, and the language is chosen as documented."""

from __future__ import annotations

import re
import subprocess
import sys
from io import BytesIO
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from gapctl import i18n
from tests.conftest import ROOT

PO = ROOT / "gapctl" / "locale" / "zh_CN" / "LC_MESSAGES" / "gapctl.po"
MO = PO.with_suffix(".mo")
KEYWORDS = {"_": None, "N_": None, "in_lang": (1,)}


def _catalogue():
    with open(PO, "rb") as handle:
        return read_po(handle)


def test_every_message_in_the_code_has_its_chinese():
    extracted = {message for _, _, message, _, _ in extract_from_dir(
        str(ROOT / "gapctl"), method_map=[("**.py", "python")], keywords=KEYWORDS)}
    catalogue = {m.id: m for m in _catalogue() if m.id}
    missing = sorted(m for m in extracted if not (m in catalogue and catalogue[m].string
                                                  and "fuzzy" not in catalogue[m].flags))
    assert not missing, f"messages without Chinese (run ./dev i18n and translate): {missing[:10]}"


def test_the_compiled_catalogue_is_the_catalogue():
    buffer = BytesIO()
    write_mo(buffer, _catalogue())
    assert buffer.getvalue() == MO.read_bytes(), "gapctl.mo is stale: run ./dev i18n"


def test_placeholders_survive_translation():
    named = re.compile(r"\{[a-z_]+\}")
    for message in _catalogue():
        if message.id and message.string:
            assert sorted(named.findall(message.id)) == sorted(named.findall(message.string)), message.id


@pytest.mark.parametrize("env, expected", [({}, "zh"), ({"GAPCTL_LANG": "en"}, "en"), ({"GAPCTL_LANG": "zh"}, "zh"),
                                           ({"LANG": "en_US.UTF-8"}, "en"), ({"LANG": "zh_CN.UTF-8"}, "zh"),
                                           ({"LANG": "en_US.UTF-8", "GAPCTL_LANG": "zh"}, "zh")])
def test_the_language_is_chosen_by_option_then_environment_then_locale(env, expected, monkeypatch):
    for name in ("GAPCTL_LANG", "LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    i18n.use(None)
    assert i18n.lang() == expected
    i18n.use("en")
    assert i18n.lang() == "en"
    i18n.use(None)


def test_every_problem_code_reads_in_both_languages():
    from gapctl.problems import CATALOGUE

    for kind in CATALOGUE.values():
        for text in (kind.title, kind.description):
            chinese, english = i18n.in_lang(text, "zh"), i18n.in_lang(text, "en")
            assert english == text and chinese and chinese != english, kind.code
            assert re.search(r"[\u4e00-\u9fff]", chinese), kind.code


def test_validate_speaks_chinese_by_default_and_english_on_request(tmp_path):
    broken = ROOT / "tests" / "readme" / "broken"
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "GAPCTL_NO_CACHE": "1"}
    chinese = subprocess.run([sys.executable, "-m", "gapctl", "validate", str(broken)], capture_output=True,
                             text=True, env=env, cwd=tmp_path, timeout=120)
    english = subprocess.run([sys.executable, "-m", "gapctl", "--lang", "en", "validate", str(broken)],
                             capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120)
    assert chinese.returncode == english.returncode == 1
    codes = [re.findall(r":\d+:\d+: ([EW]\d{3})", out.stdout) for out in (chinese, english)]
    assert codes[0] == codes[1] and codes[0]  # the same codes at the same places
    assert "未通过" in chinese.stdout and "Failed" in english.stdout
    assert "Failed" not in chinese.stdout


def test_the_catalogue_lies_in_the_package():
    assert (Path(i18n.__file__).parent / "locale" / "zh_CN" / "LC_MESSAGES" / "gapctl.mo").is_file()
