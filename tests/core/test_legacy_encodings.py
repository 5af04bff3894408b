"""Encodings: legacy Vietnamese font encodings (TCVN3, VNI), Windows-1258,
mislabelled charsets and NFD text. Tested both ways: legacy text converts,
everything else is never touched."""

from __future__ import annotations

import random
import unicodedata

import pytest
from lxml import html as lxml_html

from scraper.extract import extract_article
from scraper.extract.decode import decode_html
from scraper.extract.legacy import (
    convert_document,
    detect_legacy,
    encode_tcvn3,
    encode_vni,
    is_vietnamese_syllable,
    tcvn3_to_unicode,
    vni_to_unicode,
)

#: Hand-typed Vietnamese sentences (no capital letter carries a tone mark,
#: since TCVN3 has no code for those).
SENTENCES = [
    "Hội nghị tổng kết công tác xây dựng nông thôn mới năm 2018, triển khai nhiệm vụ năm 2019.",
    "Đồng chí Lê Phú Quốc, Phó Chủ tịch UBND huyện, phát biểu kết luận buổi làm việc.",
    "Những khó khăn, vướng mắc được tháo gỡ kịp thời; người dân phấn khởi đón nhận bằng công nhận.",
    "Đường giao thông nông thôn được bê tông hóa, trường học và trạm y tế đạt chuẩn quốc gia.",
    "Các đại biểu dự hội nghị thảo luận sôi nổi về giải pháp phát triển kinh tế - xã hội.",
    "Tiếng Việt có sáu thanh: ngang, huyền, sắc, hỏi, ngã, nặng; ví dụ ma, mà, má, mả, mã, mạ.",
]

#: Every precomposed Vietnamese letter, lower case.
VIETNAMESE_LETTERS = sorted({
    unicodedata.normalize("NFC", base + tone)
    for base in "aăâeêioôơuưy"
    for tone in ("", "\u0300", "\u0301", "\u0303", "\u0309", "\u0323")
} | {"đ"})

#: Text that must never be converted.
NOT_LEGACY = {
    "unicode_vietnamese": " ".join(SENTENCES),
    "english": "The district people's committee held a conference on rural development; "
               "delegates discussed the results of 2018 and the tasks for 2019.",
    "french": "Le président de la République a reçu les délégués à l'Élysée. Après une réunion "
              "très animée, les élèves ont été félicités pour leur créativité et générosité.",
    "german": "Die Straße führt über die Brücke zum Rathaus. Müller und Schäfer haben die Grüße "
              "übermittelt; schöne Grüße aus München, Köln und Düsseldorf. Größere Änderungen.",
    "spanish": "El niño comió una manzana el año pasado. La canción de España fue muy bonita; "
               "¿dónde está la estación? Mañana será otro día, señor, y también pasado mañana.",
    "portuguese": "São Paulo é uma cidade enorme. A população está crescendo e as eleições são "
                  "importantes. Não há solução fácil; a educação é fundamental para a nação.",
    "vietnamese_without_marks": "Hoi nghi tong ket cong tac xay dung nong thon moi nam 2018.",
}


# ------------------------------------------------------------ known strings
@pytest.mark.parametrize(("legacy", "unicode"), [
    ("Hµ Néi", "Hà Nội"), ("ViÖt Nam", "Việt Nam"), ("§¶ng", "Đảng"),
    ("Th«ng tin", "Thông tin"), ("nh©n d©n", "nhân dân"), ("ng\xadêi", "người"),
])
def test_tcvn3_known_mojibake(legacy: str, unicode: str) -> None:
    assert tcvn3_to_unicode(legacy) == unicode


@pytest.mark.parametrize(("legacy", "unicode"), [
    ("Haø Noäi", "Hà Nội"), ("Vieät Nam", "Việt Nam"), ("ñöôøng", "đường"),
    ("VIEÄT NAM", "VIỆT NAM"), ("Ñoàng", "Đồng"), ("khoâng", "không"),
])
def test_vni_known_mojibake(legacy: str, unicode: str) -> None:
    assert vni_to_unicode(legacy) == unicode


# --------------------------------------------------------------- round trips
@pytest.mark.parametrize("letter", VIETNAMESE_LETTERS)
def test_every_letter_round_trips(letter: str) -> None:
    assert tcvn3_to_unicode(encode_tcvn3(letter)) == letter
    assert vni_to_unicode(encode_vni(letter)) == letter
    assert vni_to_unicode(encode_vni(letter.upper())) == letter.upper()
    # Legacy text is 8-bit: every code is a Latin-1 character.
    assert all(ord(c) < 256 for c in encode_tcvn3(letter) + encode_vni(letter.upper()))


@pytest.mark.parametrize("sentence", SENTENCES)
def test_sentences_detected_and_converted(sentence: str) -> None:
    text = " ".join([sentence] * 2)
    for encode, name in ((encode_tcvn3, "tcvn3"), (encode_vni, "vni")):
        legacy = encode(text)
        assert legacy != text
        detection = detect_legacy(legacy)
        assert detection.encoding == name, (name, legacy)
        assert (tcvn3_to_unicode if name == "tcvn3" else vni_to_unicode)(legacy) == text


def test_tcvn3_capitals_are_typed_lower_case() -> None:
    # "Ủ" has no TCVN3 code: it is typed as "ủ" in a capitals font (.VnTimeH).
    assert tcvn3_to_unicode(encode_tcvn3("Ủy ban")) == "ủy ban"
    doc = lxml_html.document_fromstring(
        '<html><body><p style="font-family:.VnTime"><span style="font-family:.VnTimeH">'
        + encode_tcvn3("ủ") + "</span>" + encode_tcvn3("y ban nhân dân huyện tổ chức hội nghị "
                                                        "tổng kết năm 2018 tại hội trường")
        + '</p><h1><font face=".VnTimeH">' + encode_tcvn3("hội nghị tổng kết") + "</font></h1>"
        + "</body></html>")
    detection = convert_document(doc, lxml_html.tostring(doc, encoding="unicode"))
    assert detection.encoding == "tcvn3"
    assert doc.findtext(".//h1/font") == "HỘI NGHỊ TỔNG KẾT"
    assert doc.find(".//p").text_content().startswith("Ủy ban nhân dân huyện tổ chức")


# ----------------------------------------------------------- never converted
@pytest.mark.parametrize("name", sorted(NOT_LEGACY))
def test_other_text_is_never_converted(name: str) -> None:
    text = NOT_LEGACY[name]
    assert detect_legacy(text).encoding is None
    assert detect_legacy(text, font_hint="tcvn3").encoding is None
    assert detect_legacy(text, font_hint="vni").encoding is None


def test_random_latin1_noise_is_never_converted() -> None:
    rng = random.Random(5)
    alphabet = [chr(c) for c in range(0x20, 0x7F)] + [chr(c) for c in range(0xA1, 0x100)]
    for _ in range(200):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(20, 400)))
        assert detect_legacy(text).encoding is None, text


def test_unicode_page_naming_a_legacy_font_is_left_alone() -> None:
    page = ('<html><head><meta charset="utf-8"><style>body{font-family:".VnTime", Arial}</style>'
            '<title>Hội nghị tổng kết</title></head><body><div class="news-detail">'
            '<h1 class="news-title">Hội nghị tổng kết công tác năm 2018</h1>'
            '<div class="news-date">Ngày 14/03/2019 15:41:05</div><div class="news-content">'
            + "".join(f"<p>{s}</p>" for s in SENTENCES) + "</div></div></body></html>")
    article = extract_article(page.encode("utf-8"), "https://x.gov.vn/a.aspx")
    assert article.body.split("\n\n") == SENTENCES
    assert not any(w.startswith("converted-from") for w in article.warnings)


def test_mixed_page_converts_only_the_legacy_text() -> None:
    body = " ".join(SENTENCES[:3])
    page = ('<html><head><title>Cổng thông tin điện tử huyện</title></head><body>'
            '<div class="menu">Trang chủ | Giới thiệu | Tin tức – Sự kiện</div>'
            '<div class="news-detail"><h1 class="news-title">Tin tức</h1>'
            '<div class="news-content"><p><font face=".VnTime">' + encode_tcvn3(body)
            + "</font></p></div></div></body></html>")
    doc = lxml_html.document_fromstring(page)
    assert convert_document(doc, page).encoding == "tcvn3"
    assert doc.findtext(".//font") == body
    assert doc.findtext(".//title") == "Cổng thông tin điện tử huyện"
    assert "Tin tức – Sự kiện" in doc.find(".//div").text_content()


# ----------------------------------------------------------------- syllables
@pytest.mark.parametrize("word", ["nghiêng", "người", "khuya", "quyển", "Đường", "gì", "oanh",
                                  "xuyên", "thuở", "giữa", "ươm", "uỷ", "ủy", "a"])
def test_vietnamese_syllables(word: str) -> None:
    assert is_vietnamese_syllable(word)


@pytest.mark.parametrize("word", ["café", "Müller", "été", "Straße", "néi", "hµ", "móá", "ngaøy"])
def test_not_vietnamese_syllables(word: str) -> None:
    assert not is_vietnamese_syllable(word)


# ------------------------------------------------------------------- decoding
TEXT = "Hội nghị tổng kết công tác xây dựng nông thôn mới, triển khai nhiệm vụ năm 2019."


def _cp1258(text: str) -> bytes:
    out = []
    for ch in text:
        d = unicodedata.normalize("NFD", ch)
        tones = "".join(c for c in d if c in "\u0300\u0301\u0303\u0309\u0323")
        out.append(unicodedata.normalize("NFC", "".join(c for c in d if c not in tones)) + tones)
    return "".join(out).encode("cp1258")


@pytest.mark.parametrize(("declared", "data"), [
    ("windows-1258", _cp1258(TEXT)),
    ("utf-8", _cp1258(TEXT)),
    ("iso-8859-1", _cp1258(TEXT)),
    (None, _cp1258(TEXT)),
    ("iso-8859-1", TEXT.encode("utf-8")),
    ("windows-1252", TEXT.encode("utf-8")),
    ("utf-8", TEXT.encode("latin-1", "xmlcharrefreplace")),
    ("utf-8", unicodedata.normalize("NFD", TEXT).encode("utf-8")),
])
def test_decode_html_reads_vietnamese_right(declared: str | None, data: bytes) -> None:
    head = f'<meta http-equiv="Content-Type" content="text/html; charset={declared}">' \
        if declared else ""
    page = f"<html><head>{head}</head><body><p>".encode("ascii") + data + b"</p></body></html>"
    decoded = decode_html(page)
    assert unicodedata.is_normalized("NFC", decoded)
    import html as html_lib

    assert TEXT in html_lib.unescape(decoded)


def test_nfd_page_is_nfc_in_every_field() -> None:
    page = ('<html><head><meta charset="utf-8"><title>Hội nghị</title></head><body>'
            '<div class="news-detail"><h1 class="news-title">Hội nghị tổng kết</h1>'
            '<div class="news-date">Ngày 14/03/2019 15:41:05</div><div class="news-content">'
            + "".join(f"<p>{s}</p>" for s in SENTENCES)
            + '<p style="text-align:center"><img src="/a/Ảnh hội nghị.jpg" alt="Ảnh hội nghị"></p>'
            '<p style="text-align:center"><em>Quang cảnh hội nghị.</em></p>'
            '<p style="text-align:right"><b>Thùy Dung</b></p></div></div></body></html>')
    article = extract_article(unicodedata.normalize("NFD", page).encode("utf-8"),
                              "https://x.gov.vn/a.aspx")
    for value in (article.title, article.body, article.body_html, article.author or "",
                  article.images[0].caption or "", article.images[0].alt or "",
                  article.images[0].url):
        assert unicodedata.is_normalized("NFC", value), value
    assert article.title == "Hội nghị tổng kết"
    assert article.author == "Thùy Dung"
