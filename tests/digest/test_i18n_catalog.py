"""The gettext catalogs cover every string of the digest, with matching placeholders,
and the files under digests/ are readable by others (0644) unless configured."""

from __future__ import annotations

import re
import stat
from datetime import date
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from pipeline.config import Settings
from pipeline.digest.deliver import write_atom_feed, write_digest_files
from pipeline.digest.i18n import LOCALE_DIR
from pipeline.errors import ConfigError
from tests.support.paths import ROOT

KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "n": (1, 2)}
METHODS = [
    ("templates/**.j2", "jinja2.ext:babel_extract"),
    ("**.py", "python"),
]
OPTIONS = {"templates/**.j2": {"extensions": "jinja2.ext.i18n", "trim_blocks": "True"}}
PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def _used() -> set[str | tuple[str, str]]:
    found: set[str | tuple[str, str]] = set()
    for _file, _line, msg, _comments, _ctx in extract_from_dir(
        ROOT / "pipeline" / "digest", METHODS, options_map=OPTIONS, keywords=KEYWORDS
    ):
        found.add(msg if isinstance(msg, str) else (msg[0], msg[1]))
    return found


def _catalog(lang: str):
    with (LOCALE_DIR / lang / "LC_MESSAGES" / "digest.po").open("rb") as fh:
        return read_po(fh, locale=lang)


def test_every_string_in_use_is_translated_into_german() -> None:
    used = _used()
    assert len(used) > 60  # extraction really found the templates and wording.py
    de = _catalog("de")
    missing = []
    for msgid in used:
        key = msgid[0] if isinstance(msgid, tuple) else msgid
        entry = de.get(key)
        if (
            entry is None
            or not entry.string
            or (isinstance(entry.string, tuple) and not all(entry.string))
        ):
            missing.append(msgid)
            continue
        strings = entry.string if isinstance(entry.string, tuple) else (entry.string,)
        for s in strings:
            assert set(PLACEHOLDER.findall(s)) == set(PLACEHOLDER.findall(key)), key
    assert not missing, f"untranslated (run scripts/i18n.sh and translate): {missing}"
    assert de.plural_forms == "nplurals=2; plural=(n != 1);"


def test_english_catalog_lists_the_same_strings() -> None:
    ids = {m.id[0] if isinstance(m.id, tuple) else m.id for m in _catalog("en") if m.id}
    used = {m[0] if isinstance(m, tuple) else m for m in _used()}
    assert used <= ids


def test_digest_files_are_world_readable_by_default(tmp_path: Path) -> None:
    paths = write_digest_files(tmp_path, date(2026, 1, 2), "t", "<p>h</p>", {"a": 1})
    paths += (write_atom_feed(tmp_path, "Europe/Berlin"),)
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o644 for p in paths)
    private = write_digest_files(tmp_path, date(2026, 1, 3), "t", "h", {}, mode=0o600)
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in private)


def test_file_mode_setting() -> None:
    assert Settings.from_env({}).digest_file_mode == 0o644
    assert Settings.from_env({"NEWSMON_DIGEST_FILE_MODE": "0640"}).digest_file_mode == 0o640
    for bad in ("rw-r--r--", "1777", "044"):
        with pytest.raises(ConfigError, match="NEWSMON_DIGEST_FILE_MODE"):
            Settings.from_env({"NEWSMON_DIGEST_FILE_MODE": bad})
