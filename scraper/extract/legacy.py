"""Legacy Vietnamese font encodings: TCVN3 (ABC) and VNI, detected and converted.

Before Unicode, Vietnamese text was typed in 8-bit *font* encodings: the
bytes are ordinary Windows-1252 / Latin-1 bytes, and only the font
(``.VnTime``, ``.VnArial`` … for TCVN3; ``VNI-Times``, ``VNI-Helve`` … for
VNI) draws them as Vietnamese letters. Pages from that era are served as
Latin-1, so a browser without the font, and an extractor, see mojibake:

* TCVN3 (TCVN 5712:1993, "ABC"): one byte per letter. ``Hà Nội`` is
  ``Hµ Néi``, ``Việt Nam`` is ``ViÖt Nam``, ``Đảng`` is ``§¶ng``. Capital
  letters with a tone mark are not in the table: they were typed in the
  capital fonts (``.VnTimeH``) with the lower-case codes.
* VNI: a base letter followed by a mark byte. ``Hà Nội`` is ``Haø Noäi``,
  ``Việt Nam`` is ``Vieät Nam``, ``đường`` is ``ñöôøng``.

The tables below are written from the two layouts (vowel-quality and
tone-mark positions); :func:`encode_tcvn3` / :func:`encode_vni` are their
inverses, used by the tests for round trips.

Conversion is only done when detection is confident
(:func:`detect_legacy`): the converted text must read as Vietnamese
syllables far better than the text as it stands. Unicode Vietnamese,
English, French or German text is never touched.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

# ------------------------------------------------------------------ TCVN3
#: TCVN3 byte → Unicode letter. Bytes not listed are Latin-1 as they are.
_TCVN3_BYTES: dict[int, str] = {
    0xA1: "Ă", 0xA2: "Â", 0xA3: "Ê", 0xA4: "Ô", 0xA5: "Ơ", 0xA6: "Ư", 0xA7: "Đ",
    0xA8: "ă", 0xA9: "â", 0xAA: "ê", 0xAB: "ô", 0xAC: "ơ", 0xAD: "ư", 0xAE: "đ",
    # a: grave, hook, tilde, acute, dot below
    0xB5: "à", 0xB6: "ả", 0xB7: "ã", 0xB8: "á", 0xB9: "ạ",
    # ă
    0xBB: "ằ", 0xBC: "ẳ", 0xBD: "ẵ", 0xBE: "ắ", 0xC6: "ặ",
    # â
    0xC7: "ầ", 0xC8: "ẩ", 0xC9: "ẫ", 0xCA: "ấ", 0xCB: "ậ",
    # e
    0xCC: "è", 0xCE: "ẻ", 0xCF: "ẽ", 0xD0: "é", 0xD1: "ẹ",
    # ê
    0xD2: "ề", 0xD3: "ể", 0xD4: "ễ", 0xD5: "ế", 0xD6: "ệ",
    # i
    0xD7: "ì", 0xD8: "ỉ", 0xDC: "ĩ", 0xDD: "í", 0xDE: "ị",
    # o
    0xDF: "ò", 0xE1: "ỏ", 0xE2: "õ", 0xE3: "ó", 0xE4: "ọ",
    # ô
    0xE5: "ồ", 0xE6: "ổ", 0xE7: "ỗ", 0xE8: "ố", 0xE9: "ộ",
    # ơ
    0xEA: "ờ", 0xEB: "ở", 0xEC: "ỡ", 0xED: "ớ", 0xEE: "ợ",
    # u
    0xEF: "ù", 0xF1: "ủ", 0xF2: "ũ", 0xF3: "ú", 0xF4: "ụ",
    # ư
    0xF5: "ừ", 0xF6: "ử", 0xF7: "ữ", 0xF8: "ứ", 0xF9: "ự",
    # y
    0xFA: "ỳ", 0xFB: "ỷ", 0xFC: "ỹ", 0xFD: "ý", 0xFE: "ỵ",
}
#: As text decoded from Latin-1 / Windows-1252 (the bytes 0xA0-0xFF are the same).
TCVN3_TO_UNICODE: dict[str, str] = {chr(b): u for b, u in _TCVN3_BYTES.items()}
_UNICODE_TO_TCVN3: dict[str, str] = {u: chr(b) for b, u in _TCVN3_BYTES.items()}

# -------------------------------------------------------------------- VNI
#: VNI mark bytes (lower-case letters' marks; the capital forms are 0x20 lower).
#: Each maps a mark name to the byte that follows the base letter.
_VNI_MARKS_LOWER = {
    "acute": 0xF9, "grave": 0xF8, "hook": 0xFB, "tilde": 0xF5, "dot": 0xEF,
    "circ": 0xE2, "circ_acute": 0xE1, "circ_grave": 0xE0, "circ_hook": 0xE5,
    "circ_tilde": 0xE3, "circ_dot": 0xE4,
    "breve": 0xEA, "breve_acute": 0xE9, "breve_grave": 0xE8, "breve_hook": 0xFA,
    "breve_tilde": 0xFC, "breve_dot": 0xEB,
}
#: Letters VNI writes as one byte (lower case; capitals are 0x20 lower).
_VNI_SINGLE_LOWER = {
    0xF4: "ơ", 0xF6: "ư", 0xF1: "đ",
    0xED: "í", 0xEC: "ì", 0xE6: "ỉ", 0xF3: "ĩ", 0xF2: "ị",
    0xEE: "ỵ",
}
_TONES = {"acute": "\u0301", "grave": "\u0300", "hook": "\u0309", "tilde": "\u0303",
          "dot": "\u0323"}
_QUALITY = {"circ": "\u0302", "breve": "\u0306"}


def _vni_tables() -> tuple[dict[str, str], dict[str, str]]:
    """VNI sequences (as Latin-1 text) → Unicode, and the inverse."""
    to_uni: dict[str, str] = {}
    for upper in (False, True):
        shift = 0x20 if upper else 0
        for b, letter in _VNI_SINGLE_LOWER.items():
            to_uni[chr(b - shift)] = letter.upper() if upper else letter
        # ơ and ư take tone marks after their own byte: "ôù" = ớ, "öø" = ừ.
        for base_byte, base in ((0xF4, "ơ"), (0xF6, "ư")):
            for name, tone in _TONES.items():
                seq = chr(base_byte - shift) + chr(_VNI_MARKS_LOWER[name] - shift)
                letter = unicodedata.normalize("NFC", base + tone)
                to_uni[seq] = letter.upper() if upper else letter
        for vowel in "aeouy":
            base_char = vowel.upper() if upper else vowel
            for name, mark_byte in _VNI_MARKS_LOWER.items():
                quality, _, tone_name = name.partition("_")
                if quality in _QUALITY:
                    if (quality == "circ" and vowel not in "aeo") or \
                            (quality == "breve" and vowel != "a"):
                        continue
                    marks = _QUALITY[quality] + (_TONES[tone_name] if tone_name else "")
                else:
                    marks = _TONES[name]
                if vowel == "y" and name == "dot":
                    continue  # ỵ is the single byte 0xEE
                letter = unicodedata.normalize("NFC", vowel + marks)
                to_uni[base_char + chr(mark_byte - shift)] = letter.upper() if upper else letter
    inverse = {u: seq for seq, u in to_uni.items()}
    # Typists' slips the fonts draw the same: a capital base letter followed by
    # the lower-case mark byte ("Aù" for "AÙ").
    for seq, letter in list(to_uni.items()):
        if len(seq) == 2 and seq[0].islower() and seq[0].upper() != seq[0]:
            to_uni.setdefault(seq[0].upper() + seq[1], letter.upper())
    return to_uni, inverse


VNI_TO_UNICODE, _UNICODE_TO_VNI = _vni_tables()
_VNI_PAIRS = re.compile(
    "|".join(re.escape(k) for k in sorted(VNI_TO_UNICODE, key=len, reverse=True))
)


# -------------------------------------------------------------- converters
_TCVN3_TABLE = str.maketrans(TCVN3_TO_UNICODE)


def tcvn3_to_unicode(text: str) -> str:
    """TCVN3 text (as decoded from Latin-1/Windows-1252) to Unicode (NFC)."""
    return text.translate(_TCVN3_TABLE)


def vni_to_unicode(text: str) -> str:
    """VNI text (as decoded from Latin-1/Windows-1252) to Unicode (NFC)."""
    return _VNI_PAIRS.sub(lambda m: VNI_TO_UNICODE[m.group(0)], text)


def encode_tcvn3(text: str) -> str:
    """Unicode Vietnamese → TCVN3 (as Latin-1 text). Capitals with a tone mark
    have no TCVN3 code: they are written lower case, as in the ``.VnTime`` font."""
    out = []
    for c in unicodedata.normalize("NFC", text):
        code = _UNICODE_TO_TCVN3.get(c)
        if code is None and c.lower() != c and c.lower() in _UNICODE_TO_TCVN3 \
                and c not in "ĂÂÊÔƠƯĐ":
            code = _UNICODE_TO_TCVN3[c.lower()]
        out.append(code if code is not None else c)
    return "".join(out)


def encode_vni(text: str) -> str:
    """Unicode Vietnamese → VNI (as Latin-1 text)."""
    return "".join(_UNICODE_TO_VNI.get(c, c) for c in unicodedata.normalize("NFC", text))


# ------------------------------------------------------- Vietnamese syllables
_TONE_MARKS = "\u0300\u0301\u0303\u0309\u0323"
_ONSET = r"(?:ngh|ng|nh|ch|gh|gi|kh|ph|th|tr|qu|b|c|d|đ|g|h|k|l|m|n|p|r|s|t|v|x)?"
_NUCLEUS = (
    r"(?:uyê|uyu|uya|iêu|yêu|oai|oay|oao|oeo|uây|uôi|ươi|ươu|"
    r"ai|ao|au|ay|âu|ây|eo|êu|ia|iê|iu|oa|oă|oe|oi|ôi|ơi|oo|ua|uâ|uê|ui|uô|uơ|uy|ưa|ưi|ưu|ươ|yê|"
    r"a|ă|â|e|ê|i|o|ô|ơ|u|ư|y)"
)
_CODA = r"(?:ch|ng|nh|c|m|n|p|t)?"
_SYLLABLE = re.compile(f"^{_ONSET}{_NUCLEUS}{_CODA}$")
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)


@lru_cache(maxsize=65_536)
def is_vietnamese_syllable(word: str) -> bool:
    """True when ``word`` (any case) is spelled like one Vietnamese syllable:
    onset, vowel nucleus, final consonant, at most one tone mark."""
    decomposed = unicodedata.normalize("NFD", word.lower())
    tones = sum(decomposed.count(t) for t in _TONE_MARKS)
    if tones > 1:
        return False
    base = unicodedata.normalize("NFC", "".join(c for c in decomposed if c not in _TONE_MARKS))
    return bool(_SYLLABLE.match(base))


def _marked(word: str) -> bool:
    return not word.isascii()


def vietnamese_score(text: str) -> tuple[int, int]:
    """(words with non-ASCII letters, of those the valid Vietnamese syllables)."""
    words = [w for w in _WORD.findall(text) if not w.isascii()]
    return len(words), sum(map(is_vietnamese_syllable, words))


# --------------------------------------------------------------- detection
#: Letters of Unicode Vietnamese outside Latin-1: their presence means the
#: text is already Unicode (legacy-encoded text decoded as Latin-1 has none).
_UNICODE_VIETNAMESE = re.compile("[\u0102\u0103\u0110\u0111\u0128\u0129\u0168\u0169\u01a0\u01a1"
                                 "\u01af\u01b0\u1ea0-\u1ef9\u0300\u0301\u0303\u0309\u0323]")
#: Font names that mark text typed in a legacy encoding.
FONT_HINTS = {
    "tcvn3": re.compile(r"\.vn[a-z]|\bvn[-_ ]?time", re.I),
    "vni": re.compile(r"\bvni[-_ ]", re.I),
}
#: Minimum marked words, and the share of them that must convert to valid syllables.
MIN_WORDS = 6
MIN_VALID_SHARE = 0.8


@dataclass(frozen=True)
class Detection:
    """The outcome of :func:`detect_legacy`."""

    #: ``"tcvn3"``, ``"vni"`` or None (leave the text alone).
    encoding: str | None
    #: Marked words in the sample; valid syllables as it stands / once converted.
    words: int = 0
    valid_now: int = 0
    valid_converted: int = 0


CONVERTERS = {"tcvn3": tcvn3_to_unicode, "vni": vni_to_unicode}


def detect_legacy(text: str, *, font_hint: str | None = None) -> Detection:
    """Is ``text`` TCVN3 or VNI read as Latin-1? Only a confident yes counts.

    Confident means: enough words carry Latin-1 letters; the text has no
    letter that only Unicode Vietnamese has; converted, at least 80 % of
    those words are valid Vietnamese syllables, and clearly more than as
    the text stands. A font hint (``.VnTime``, ``VNI-Times`` in the page's
    styles) lowers the number of words needed, never the share.
    """
    sample = text[:200_000]
    if _UNICODE_VIETNAMESE.search(sample):
        return Detection(None)
    words, valid_now = vietnamese_score(sample)
    need = 2 if font_hint else MIN_WORDS
    if words < need:
        return Detection(None, words, valid_now)
    best = Detection(None, words, valid_now)
    for name, convert in CONVERTERS.items():
        converted = convert(sample)
        marked, valid = vietnamese_score(converted)
        if marked == 0:
            continue
        share = valid / marked
        if share < MIN_VALID_SHARE or valid <= valid_now * 2 or valid < need:
            continue
        if name == font_hint or valid > best.valid_converted:
            best = Detection(name, words, valid_now, valid)
            if name == font_hint:
                break
    return best


def font_hint(fonts: Iterable[str]) -> str | None:
    """``"tcvn3"`` / ``"vni"`` when a font name of the page names one."""
    for font in fonts:
        for name, pattern in FONT_HINTS.items():
            if pattern.search(font):
                return name
    return None


def is_capitals_font(font: str) -> bool:
    """TCVN3's capital fonts end in H (``.VnTimeH``, ``.VnArialH``)."""
    return bool(re.search(r"\.vn\w*h\b", font.strip().strip("'\""), re.I))


def convert(text: str, encoding: str) -> str:
    return unicodedata.normalize("NFC", CONVERTERS[encoding](text))


# ------------------------------------------------------------ documents
_FONT_FAMILY = re.compile(
    r"font-family\s*:\s*[\"']?([^;\"'}<>]+)|face\s*=\s*[\"']([^\"']+)", re.I)
_SKIP_TAGS = frozenset({"script", "style", "noscript", "template"})


def fonts_in(html: str) -> list[str]:
    """Font names a page's markup and styles mention."""
    return [(m.group(1) or m.group(2)).strip() for m in _FONT_FAMILY.finditer(html)]


def _own_font(el: Any) -> str:
    """The font an element's text is drawn in (nearest ``face`` / ``font-family``)."""
    node = el
    while node is not None:
        if isinstance(node.tag, str):
            face = node.get("face")
            if face:
                return str(face)
            m = _FONT_FAMILY.search(node.get("style") or "")
            if m:
                return (m.group(1) or m.group(2)).strip()
        node = node.getparent()
    return ""


#: Latin-1 characters (or their references) that legacy-encoded Vietnamese is
#: full of and Unicode Vietnamese never uses (its Latin-1 letters are à á â ã
#: è é ê ì í ò ó ô õ ù ú ý; signs such as ° ± ² ³ are left out too): a quick
#: test before any tree walk.
FOREIGN_LATIN1_CLASS = (
    "[\u00a1-\u00af\u00b5-\u00b9\u00bb-\u00be\u00c4-\u00c7\u00cb\u00ce-\u00d1\u00d6-\u00d8"
    "\u00db\u00dc\u00de\u00df\u00e4-\u00e7\u00eb\u00ee-\u00f1\u00f6-\u00f8\u00fb\u00fc\u00fe\u00ff]")
_FOREIGN_LATIN1 = re.compile(FOREIGN_LATIN1_CLASS)
#: The same characters written as numeric references (kept apart: one
#: alternation would make the common scan five times slower).
_FOREIGN_REFERENCE = re.compile(r"&#(?:1[6-9]\d|2[0-5]\d);|&#x[a-f][0-9a-f];", re.I)
_MIN_FOREIGN = 3


def _foreign_count(html: str) -> int:
    count = len(_FOREIGN_LATIN1.findall(html))
    if "&#" in html:
        count += len(_FOREIGN_REFERENCE.findall(html))
    return count


def might_be_legacy(html: str, characters: int | None = None) -> bool:
    """Whether ``html`` has enough characters a legacy font encoding uses and
    Unicode Vietnamese does not to be worth a look (one regular-expression
    scan). ``characters``: their number when the caller has counted them
    (character references are counted here)."""
    html = html[:2_000_000]
    if characters is None:
        return _foreign_count(html) >= _MIN_FOREIGN
    if characters < _MIN_FOREIGN and "&#" in html:
        characters += len(_FOREIGN_REFERENCE.findall(html))
    return characters >= _MIN_FOREIGN


def convert_document(doc: Any, html: str = "", *, checked: bool = False) -> Detection:
    """Convert the legacy-encoded text of a parsed page in place.

    Text nodes holding only Latin-1 letters are the candidates (a page's
    Unicode template around legacy content is left alone); they are
    converted when :func:`detect_legacy` is confident about them taken
    together. Text drawn in a TCVN3 capitals font is upper-cased.
    ``checked``: the caller has already found :func:`might_be_legacy` true.
    """
    if html and not checked and not might_be_legacy(html):
        return Detection(None)  # the common case: nothing legacy-looking at all
    slots: list[tuple[Any, str, str]] = []  # (element, "text"|"tail", value)
    for el in doc.iter():
        if not isinstance(el.tag, str):
            if el.tail:
                slots.append((el, "tail", el.tail))
            continue
        if el.tag in _SKIP_TAGS:
            if el.tail:
                slots.append((el, "tail", el.tail))
            continue
        if el.text:
            slots.append((el, "text", el.text))
        if el.tail:
            slots.append((el, "tail", el.tail))
    candidates = [s for s in slots if _marked(s[2]) and not _UNICODE_VIETNAMESE.search(s[2])]
    if not candidates:
        return Detection(None)
    hint = font_hint(fonts_in(html[:500_000])) if html else None
    detection = detect_legacy(" \n".join(s[2] for s in candidates), font_hint=hint)
    if detection.encoding is None:
        return detection
    encoding = detection.encoding
    for el, where, value in candidates:
        converted = convert(value, encoding)
        owner = el if where == "text" else el.getparent()
        if owner is not None and is_capitals_font(_own_font(owner)):
            converted = converted.upper()
        setattr(el, where, converted)
    for el in doc.iter():
        if not isinstance(el.tag, str):
            continue
        for attr in ("alt", "title", "content"):
            value = el.get(attr)
            if value and _marked(value) and not _UNICODE_VIETNAMESE.search(value):
                el.set(attr, convert(value, encoding))
    return detection
