"""The Thai, Italian, German and Azerbaijani catalogs: complete, well formed, compiled, and used at runtime.

Only the runtime page test needs the database. To update the catalogs after adding strings:
``cd src/threadline && python -m django makemessages -l th -l it -l de -l az --no-obsolete --ignore 'migrations/*'``,
translate the new entries, then ``msgfmt --check -o django.mo django.po`` in each ``LC_MESSAGES``.
"""

from __future__ import annotations

import pathlib
import re

import polib
import pytest
from django.conf import settings
from django.utils import translation

import threadline

LOCALE = pathlib.Path(threadline.__file__).parent / "locale"
LANGUAGES = ("th", "it", "de", "az")
PLURAL_FORMS = {
    "th": "nplurals=1; plural=0;",
    "it": "nplurals=2; plural=(n != 1);",
    "de": "nplurals=2; plural=(n != 1);",
    "az": "nplurals=2; plural=(n != 1);",
}

# %(name)s / %s / %d, {{ name }} (templates), {name} (str.format), and HTML tags.
PERCENT = re.compile(r"%(?:\([A-Za-z_][A-Za-z0-9_]*\))?[-#0 +]*\d*(?:\.\d+)?[sdifrxXeEgGc%]")
DOUBLE_BRACE = re.compile(r"\{\{\s*[^{}]+?\s*\}\}")
SINGLE_BRACE = re.compile(r"(?<!\{)\{[A-Za-z_][A-Za-z0-9_.]*(?:![rsa])?(?::[^{}]*)?\}(?!\})")
HTML_TAG = re.compile(r"</?[A-Za-z][^<>]*>")


def po_path(lang: str) -> pathlib.Path:
    return LOCALE / lang / "LC_MESSAGES" / "django.po"


def mo_path(lang: str) -> pathlib.Path:
    return LOCALE / lang / "LC_MESSAGES" / "django.mo"


def catalog(lang: str) -> polib.POFile:
    return polib.pofile(str(po_path(lang)))


def live_entries(po: polib.POFile) -> list[polib.POEntry]:
    return [entry for entry in po if not entry.obsolete]


def translations_of(entry: polib.POEntry) -> list[str]:
    if entry.msgid_plural:
        return [entry.msgstr_plural[index] for index in sorted(entry.msgstr_plural)]
    return [entry.msgstr]


def placeholders(text: str) -> dict[str, list[str]]:
    return {
        "percent": sorted(p for p in PERCENT.findall(text) if p != "%%"),
        "double_brace": sorted(re.sub(r"\s+", "", p) for p in DOUBLE_BRACE.findall(text)),
        "single_brace": sorted(SINGLE_BRACE.findall(text)),
        "html": sorted(re.sub(r"\s+", " ", p) for p in HTML_TAG.findall(text)),
    }


def key(entry) -> tuple[str | None, str]:
    return (entry.msgctxt or None, entry.msgid)


# --- Every catalog ---------------------------------------------------------------------------------------


def test_every_configured_language_has_a_catalog():
    codes = [code for code, _name in settings.LANGUAGES if code != settings.LANGUAGE_CODE]
    assert sorted(codes) == sorted(LANGUAGES)
    assert settings.LOCALE_PATHS and LOCALE.resolve() in [pathlib.Path(p).resolve() for p in settings.LOCALE_PATHS]
    for code in codes:
        assert po_path(code).is_file(), f"no catalog for {code}"
        assert mo_path(code).is_file(), f"no compiled catalog for {code}"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_catalog_header(lang):
    po = catalog(lang)
    assert not po.metadata_is_fuzzy
    assert po.metadata["Language"] == lang
    assert po.metadata["Plural-Forms"] == PLURAL_FORMS[lang]
    assert po.metadata["Content-Type"] == "text/plain; charset=UTF-8"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_catalog_is_complete(lang):
    po = catalog(lang)
    entries = live_entries(po)
    assert len(entries) > 300, "the catalog lost most of its entries"
    untranslated = [e.msgid for e in entries if not all(text.strip() for text in translations_of(e))]
    fuzzy = [e.msgid for e in entries if "fuzzy" in e.flags]
    assert untranslated == []
    assert fuzzy == []
    assert po.percent_translated() == 100


@pytest.mark.parametrize("lang", LANGUAGES)
def test_plural_entries_have_every_form(lang):
    count = int(re.search(r"nplurals=(\d+)", PLURAL_FORMS[lang]).group(1))
    for entry in live_entries(catalog(lang)):
        if entry.msgid_plural:
            assert sorted(entry.msgstr_plural) == list(range(count)), entry.msgid


@pytest.mark.parametrize("lang", LANGUAGES)
def test_translations_keep_placeholders_tags_and_edges(lang):
    problems = []
    for entry in live_entries(catalog(lang)):
        sources = [entry.msgid, entry.msgid_plural] if entry.msgid_plural else [entry.msgid]
        expected = placeholders(entry.msgid)
        for index, text in enumerate(translations_of(entry)):
            if entry.msgid_plural:
                # A form may drop the count (Thai has one form); the named placeholders must all stay.
                expected = placeholders(sources[min(index, 1)])
            found = placeholders(text)
            if found != expected:
                problems.append((entry.msgid, text, expected, found))
            source = sources[min(index, len(sources) - 1)]
            if source[:1].isspace() != text[:1].isspace() or source[-1:].isspace() != text[-1:].isspace():
                problems.append((entry.msgid, text, "leading/trailing whitespace differs"))
            if source.count("\n") != text.count("\n"):
                problems.append((entry.msgid, text, "line count differs"))
    assert problems == []


@pytest.mark.parametrize("lang", LANGUAGES)
def test_python_format_entries_are_flagged_consistently(lang):
    """An entry with %(name)s placeholders that lost its python-format flag would escape msgfmt --check."""
    for entry in live_entries(catalog(lang)):
        if re.search(r"%\([A-Za-z_]+\)s", entry.msgid):
            assert "python-format" in entry.flags, entry.msgid


@pytest.mark.parametrize("lang", LANGUAGES)
def test_compiled_catalog_matches_the_po(lang):
    po = catalog(lang)
    mo = polib.mofile(str(mo_path(lang)))
    expected = {key(e): translations_of(e) for e in live_entries(po) if e.msgid}
    compiled = {key(e): translations_of(e) for e in mo if e.msgid}
    assert compiled == expected, "django.mo is stale: run msgfmt --check -o django.mo django.po"
    assert mo.metadata.get("Plural-Forms") == PLURAL_FORMS[lang]


# --- Runtime ---------------------------------------------------------------------------------------------

# Strings from different layers: app names, model choices, templates, service errors, timeline, messages.
KNOWN = [
    "Conversations",
    "Internal note",
    "Resolve",
    "A reply cannot be empty.",
    "Snooze until",
    "Reply to the customer",
    "Canned responses",
    "Unassigned",
    "Not found.",
]


@pytest.mark.parametrize("lang", LANGUAGES)
def test_known_strings_translate_at_runtime(lang):
    po = catalog(lang)
    by_msgid = {e.msgid: e.msgstr for e in live_entries(po) if not e.msgctxt}
    with translation.override(lang):
        for text in KNOWN:
            assert text in by_msgid, f"{text!r} is no longer in the catalog"
            assert translation.gettext(text) == by_msgid[text]
            assert translation.gettext(text) != text
        sentence = translation.gettext("%(actor)s resolved the conversation") % {"actor": "Mai"}
        assert "Mai" in sentence and sentence != "Mai resolved the conversation"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_model_choices_and_language_names_translate(lang):
    from threadline.conversations.models import Status

    with translation.override(lang):
        assert str(Status.RESOLVED.label) != "Resolved"
        names = {code: str(name) for code, name in settings.LANGUAGES}
        assert names["en"] != "English" and names[lang] != dict(
            [("th", "Thai"), ("it", "Italian"), ("de", "German"), ("az", "Azerbaijani")]
        )[lang]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("th", ["กล่องข้อความ", "บทสนทนา", "ผู้ติดต่อ", "ตัวกรอง"]),
        ("de", ["Posteingang", "Konversationen", "Kontakte", "Filter"]),
        ("it", ["Conversazioni", "Contatti", "Filtri"]),
        ("az", ["Söhbətlər", "Kontaktlar", "Filtrlər"]),
    ],
)
def test_inbox_page_renders_in_the_agents_language(client, api_inbox, agent_member, lang, expected):
    agent_member.ui_language = lang
    agent_member.save()
    client.force_login(agent_member.user)
    page = client.get("/inbox/").content.decode()
    assert f'<html lang="{lang}">' in page
    for text in expected:
        assert text in page
    assert ">Conversations<" not in page
