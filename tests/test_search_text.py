"""Pure tests of the text pipeline shared by the index and the queries: folding, segmentation, snippets."""

from __future__ import annotations

from threadline.search.text import fold, highlight, query_terms, snippet, words


def test_fold_lowercases_and_drops_latin_diacritics_but_keeps_thai():
    assert fold("Größe ÖDƏNİŞ Perché") == "grosse odenis perche"
    assert fold("รองเท้าคู่นี้") == "รองเท้าคู่นี้"  # vowel and tone marks are part of Thai words


def test_thai_is_segmented_into_words():
    assert words("ฉันต้องการคืนเงินสำหรับรองเท้าคู่นี้") == ["ฉัน", "ต้องการ", "คืนเงิน", "สำหรับ", "รองเท้า", "คู่", "นี้"]
    assert words("Size 42, bitte!") == ["size", "42", "bitte"]
    assert words("ขนาด42 ok") == ["ขนาด", "42", "ok"]


def test_query_terms_drop_stopwords_unless_nothing_is_left():
    assert query_terms("How do I return my shoes?") == ["return", "shoes"]
    assert query_terms("Wie kann ich die Größe ändern") == ["grosse", "andern"]
    assert query_terms("ฉันจะคืนรองเท้าได้อย่างไร") == ["คืน", "รองเท้า"]
    assert query_terms("the") == ["the"]


def test_highlight_maps_folded_matches_back_to_the_original_text():
    assert highlight("Die Straße & <b>", ["strasse"]) == "Die <mark>Straße</mark> &amp; &lt;b&gt;"
    assert highlight("Rücksendungsformular", ["formular"]) == "Rücksendungs<mark>formular</mark>"


def test_snippet_is_a_window_around_the_first_match():
    text = "word " * 100 + "the refund arrives in five days " + "filler " * 100
    result = snippet(text, ["refund"], width=60)
    assert result.startswith("…") and result.endswith("…")
    assert "<mark>refund</mark>" in result and len(result) < 90
    assert snippet("<script>x</script>", ["nothing"]) == "&lt;script&gt;x&lt;/script&gt;"
