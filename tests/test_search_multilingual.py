"""Article search in five languages: whole words, Thai words inside unspaced text, German compounds.

Service tests against the real index (FTS5 on SQLite, tsvector + pg_trgm on PostgreSQL).
"""

from __future__ import annotations

import pytest

from threadline.knowledge.search import article_search, detect_language
from threadline.knowledge.services import article_create, translation_save

ARTICLES = {
    "returns": {
        "en": ("Returning shoes", "You can send shoes back within 30 days. Print the returns label from your account."),
        "th": ("การคืนสินค้า", "คุณสามารถส่งรองเท้าคืนได้ภายใน30วันโดยพิมพ์ฉลากส่งคืนจากบัญชีของคุณแล้วเราจะคืนเงินให้"),
        "de": ("Rücksendung von Schuhen", "Drucke das Rücksendeetikett aus. Das Rücksendungsformular liegt dem Paket bei."),
        "it": ("Reso delle scarpe", "Puoi restituire le scarpe entro 30 giorni. Il rimborso arriva in cinque giorni."),
        "az": ("Ayaqqabıların qaytarılması", "Ayaqqabıları 30 gün ərzində qaytara bilərsiniz. Pul geri ödənişi beş günə gəlir."),
    },
    "sizes": {
        "en": ("Finding your size", "Measure your foot length in centimetres and compare it with the size chart."),
        "th": ("การเลือกขนาดรองเท้า", "วัดความยาวเท้าของคุณเป็นเซนติเมตรแล้วเทียบกับตารางไซส์"),
        "de": ("Die richtige Größe", "Miss deine Fußlänge in Zentimetern und vergleiche sie mit der Größentabelle."),
        "it": ("Trovare la taglia", "Misura la lunghezza del piede in centimetri e confrontala con la tabella delle taglie."),
        "az": ("Ölçünüzü tapın", "Ayağınızın uzunluğunu santimetrlə ölçün və ölçü cədvəli ilə müqayisə edin."),
    },
    "payment": {
        "en": ("Paying for your order", "We accept credit cards, PayPal and bank transfer. Cash on delivery costs extra."),
        "th": ("การชำระเงิน", "เรารับบัตรเครดิตพร้อมเพย์และโอนเงินผ่านธนาคารเก็บเงินปลายทางมีค่าธรรมเนียม"),
        "de": ("Bezahlung", "Wir akzeptieren Kreditkarten, PayPal und Banküberweisung. Nachnahme kostet extra."),
        "it": ("Pagamento", "Accettiamo carte di credito, PayPal e bonifico bancario. Il contrassegno costa di più."),
        "az": ("Ödəniş", "Kredit kartı, PayPal və bank köçürməsi qəbul edirik. Çatdırılma zamanı nağd ödəniş əlavə ödənişlidir."),
    },
}


@pytest.fixture
def knowledge_base(workspace):
    articles = {}
    for key, translations in ARTICLES.items():
        article = article_create(workspace=workspace, key=key)
        for locale, (title, body) in translations.items():
            translation_save(article=article, locale=locale, title=title, body_markdown=body, publish=True)
        articles[key] = article
    return articles


def _top(workspace, query, locale=None):
    hits = article_search(workspace_id=workspace.pk, query=query, locale=locale)
    assert hits, f"nothing found for {query!r}"
    return hits[0]


@pytest.mark.parametrize(
    ("query", "key", "locale"),
    [
        ("return shoes", "returns", "en"),
        ("what size am I", "sizes", "en"),
        ("credit card", "payment", "en"),
        ("Rücksendung", "returns", "de"),
        ("Größe", "sizes", "de"),
        ("rimborso", "returns", "it"),
        ("tabella taglie", "sizes", "it"),
        ("ödəniş kartı", "payment", "az"),
        ("ölçü cədvəli", "sizes", "az"),
        ("คืนเงิน", "returns", "th"),
        ("บัตรเครดิต", "payment", "th"),
    ],
)
def test_query_in_each_language_finds_its_article(workspace, knowledge_base, query, key, locale):
    hit = _top(workspace, query, locale=locale)
    assert hit.article_id == knowledge_base[key].pk
    assert hit.locale == locale


def test_thai_word_inside_unspaced_text_is_found_and_marked(workspace, knowledge_base):
    # "ฉลาก" (label) sits inside an unbroken run of Thai: no spaces around it anywhere.
    hit = _top(workspace, "ฉลาก")
    assert hit.article_id == knowledge_base["returns"].pk
    assert hit.locale == "th"
    assert "<mark>ฉลาก</mark>" in hit.snippet_html


def test_german_word_inside_a_compound_is_found(workspace, knowledge_base):
    # "formular" only occurs inside "Rücksendungsformular"; "tabelle" only inside "Größentabelle".
    assert _top(workspace, "Formular").article_id == knowledge_base["returns"].pk
    hit = _top(workspace, "tabelle", locale="de")
    assert hit.article_id == knowledge_base["sizes"].pk
    assert "Größen<mark>tabelle</mark>" in hit.snippet_html


def test_diacritics_are_optional_in_queries(workspace, knowledge_base):
    assert _top(workspace, "groesse grosse", locale="de").article_id == knowledge_base["sizes"].pk
    assert _top(workspace, "odenis", locale="az").article_id == knowledge_base["payment"].pk


def test_preferred_locale_wins_and_hits_are_one_per_article(workspace, knowledge_base):
    hits = article_search(workspace_id=workspace.pk, query="PayPal", locale="it")
    assert hits[0].locale == "it"
    assert len({hit.article_id for hit in hits}) == len(hits)


def test_hit_carries_url_text_and_escaped_snippet(workspace, knowledge_base):
    hit = _top(workspace, "bank transfer", locale="en")
    assert hit.url.endswith(f"/help/{workspace.slug}/en/articles/{knowledge_base['payment'].pk}-paying-for-your-order")
    assert "Cash on delivery" in hit.body_text
    assert "<mark>bank</mark>" in hit.snippet_html and "<script" not in hit.snippet_html
    assert hit.score > 0


def test_nothing_found_for_unrelated_or_empty_query(workspace, knowledge_base):
    assert article_search(workspace_id=workspace.pk, query="") == []
    assert article_search(workspace_id=workspace.pk, query="zyxwvut qqq") == []


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Where is my order?", "en"),
        ("รองเท้าไม่พอดีครับ", "th"),
        ("Wo ist meine Bestellung?", "de"),
        ("Dov'è il mio ordine? Vorrei un reso", "it"),
        ("Sifarişim haradadır? Mənə kömək edin", "az"),
    ],
)
def test_detect_language(text, language):
    assert detect_language(text) == language


def test_an_edited_article_is_found_by_its_new_words_and_no_longer_by_the_old(workspace, knowledge_base):
    """Re-indexing goes through the upsert's update path: the text index (FTS5 triggers on SQLite, the
    generated tsvector on PostgreSQL) must follow it."""
    from threadline.search.models import SearchDocument

    article = knowledge_base["returns"]
    documents = SearchDocument.objects.filter(kind="article").count()
    translation_save(article=article, locale="en", title="Sending shoes back",
                     body_markdown="Print the parcel label and drop the box at a kiosk.", publish=True)
    assert SearchDocument.objects.filter(kind="article").count() == documents  # updated in place
    assert _top(workspace, "parcel kiosk", locale="en").article_id == article.pk
    hits = article_search(workspace_id=workspace.pk, query="account", locale="en")  # only the old text had it
    assert all(hit.article_id != article.pk or hit.locale != "en" for hit in hits)
