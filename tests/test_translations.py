"""Every user-facing string ships in Spanish, and the compiled catalogue matches its source."""

import gettext
import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest
from django.conf import settings

LOCALE = Path(settings.BASE_DIR) / "locale"
PO = LOCALE / "es" / "LC_MESSAGES" / "django.po"
MO = PO.with_suffix(".mo")


def test_spanish_catalogue_is_complete_and_not_fuzzy():
    catalogue = polib.pofile(str(PO))
    assert catalogue.untranslated_entries() == []
    assert catalogue.fuzzy_entries() == []
    assert len(catalogue.translated_entries()) > 100


def test_compiled_catalogue_matches_the_source():
    compiled = gettext.GNUTranslations(MO.open("rb"))
    for entry in polib.pofile(str(PO)).translated_entries():
        if entry.msgid_plural:
            assert compiled.ngettext(entry.msgid, entry.msgid_plural, 2) == entry.msgstr_plural[1]
        else:
            assert compiled.gettext(entry.msgid) == entry.msgstr, entry.msgid


@pytest.mark.skipif(shutil.which("xgettext") is None, reason="GNU gettext (xgettext) is not installed")
def test_every_marked_string_is_in_the_catalogue(tmp_path):
    """Run makemessages on a copy of the source and compare msgids: nothing marked may be missing."""
    base = Path(settings.BASE_DIR)
    copy = tmp_path / "src"
    for name in (
        "bindery",
        "adminkit",
        "storefront",
        "binding",
        "sandbox",
        "api",
        "accounts",
        "templates",
        "locale",
    ):
        shutil.copytree(base / name, copy / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(base / "manage.py", copy / "manage.py")
    subprocess.run(
        [sys.executable, "manage.py", "makemessages", "--locale", "es", "--no-obsolete"],
        cwd=copy,
        check=True,
        capture_output=True,
    )
    fresh = {e.msgid for e in polib.pofile(str(copy / "locale/es/LC_MESSAGES/django.po"))}
    shipped = {e.msgid for e in polib.pofile(str(PO)).translated_entries()}
    assert sorted(fresh - shipped) == []
