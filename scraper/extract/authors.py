"""Authors, the Vietnamese way: signatures and bylines.

Seen on district portals::

    Văn Hùng                          (right-aligned or bold, last line)
    Tác giả: Văn Hùng
    Nguồn: Trung tâm VH-TT
    Theo baothanhhoa.vn / (Theo baothanhhoa.vn)
    (Văn Hùng)
    Văn Hùng - Trung tâm VH-TT
    Văn Hùng, Thùy Dung

A body sentence is never an author: a signature is short, has no sentence
punctuation, and its words are capitalised like a name.
"""

from __future__ import annotations

import re

from scraper.extract.text import clean_line

_LABELLED = re.compile(
    r"^\(?\s*(?P<label>tác giả|tác gỉa|người viết|nguồn tin|thực hiện|bài và ảnh|bài, ảnh|bài|tin và ảnh|tin, ảnh|"
    r"tin|ảnh|nguồn|theo|pv|phóng viên|btv)\s*(?P<sep>[:.]?)\s*(?P<name>.+?)\s*\)?$",
    re.I,
)
_PARENS = re.compile(r"^\((?P<name>[^()]{2,80})\)$")
#: A source given as a web address ("Theo baothanhhoa.vn").
_DOMAIN = re.compile(r"^[\w.-]+\.[a-z]{2,}(?:/\S*)?$", re.I)
_NAME_THEN_UNIT = re.compile(r"^(?P<name>[^()]{2,60}?)\s*\((?P<unit>[^()]{2,60})\)$")
_TRAILING_UNIT = re.compile(r"\s*\([^()]*\)\s*$")
#: Words allowed in lower case inside a signature.
_LOWER_OK = frozenset("và của tại - & – , . / ( )".split() + ["ảnh", "bài", "tin"])
_SENTENCE_END = re.compile(r"[,;:!?…]$|\./\.$")
_SPLIT_PEOPLE = re.compile(r"\s*(?:,|;|\bvà\b|\s[-–]\s)\s*")
_UNIT_WORDS = re.compile(
    r"^(?:trung tâm|ttvh|phòng|ban|ubnd|hđnd|đài|báo|văn phòng|hội|cổng|ttvh-tt|"
    r"trung tam|vh-tt|vhtt|phường|xã|thị trấn|huyện|tỉnh|thành phố|thị xã|đảng ủy|đảng uỷ|"
    r"huyện ủy|huyện uỷ|mặt trận|mttq|công an|trường|bệnh viện|chi cục|sở|"
    r"bộ chỉ huy|ban chỉ huy|đoàn|trạm|cục|tt\b)", re.I
)


def _capitalised(word: str) -> bool:
    word = word.strip("()[]\"'“”.,")
    if not word:
        return True
    return word[0].isupper() or word[0].isdigit() or word.lower() in _LOWER_OK


def looks_like_name(text: str, *, strict: bool) -> bool:
    """True for a short line shaped like a person's or unit's name."""
    line = clean_line(text)
    if not line or len(line) > 90 or _SENTENCE_END.search(line):
        return False
    if re.search(r"\d{1,2}/\d{1,2}/\d{2,4}|https?://", line):
        return False
    words = line.split()
    if len(words) > (6 if strict else 12):
        return False
    caps = sum(1 for w in words if _capitalised(w))
    if caps < len(words) * (1.0 if strict else 0.75):
        return False
    # A name is mostly letters.
    letters = sum(c.isalpha() for c in line)
    return letters >= len(line.replace(" ", "")) * 0.6


def parse_byline(text: str, *, emphasised: bool) -> str | None:
    """The author named by a last line of an article, or None.

    ``emphasised`` is True when the line is set apart (right-aligned, bold,
    italic): then a plainer name shape is accepted.
    """
    line = clean_line(text)
    if not line:
        return None
    m = _LABELLED.match(line)
    if m and len(line) <= 120:
        name = m["name"].strip(" .:-")
        # "Nguồn: X" says it is a byline; "Nguồn vốn …" without the colon is prose.
        labelled = m["sep"] == ":" and m["label"].lower() not in ("theo", "tin", "bài", "ảnh")
        if name and (labelled or looks_like_name(name, strict=False) or _DOMAIN.match(name)):
            return name if m["label"].lower() not in ("theo",) else f"Theo {name}"
    m2 = _PARENS.match(line)
    if m2 and looks_like_name(m2["name"], strict=False):
        return m2["name"].strip()
    if m2:  # "(Văn Hùng - Trung tâm VH-TT)": a byline in parentheses
        return parse_byline(m2["name"], emphasised=True)
    if looks_like_name(line, strict=not emphasised):
        return line.rstrip(".")
    # "Đức Anh (Trung tâm VH-TT&TT huyện)": a name, then the writer's unit in brackets.
    m3 = _NAME_THEN_UNIT.match(line)
    if m3 and looks_like_name(m3["name"], strict=not emphasised) and _UNIT_WORDS.match(m3["unit"]):
        return line
    # "Văn Hùng - Trung tâm VH-TT&TT huyện": a name, then the writer's unit.
    person, sep, unit = line.partition(" - ")
    if sep and len(unit) <= 60 and not _SENTENCE_END.search(unit) \
            and looks_like_name(person, strict=not emphasised) and _UNIT_WORDS.match(unit):
        return line.rstrip(".")
    # A unit alone, set apart: "Ban Tuyên giáo Huyện ủy".
    if emphasised and _UNIT_WORDS.match(line) and len(line.split()) <= 10 \
            and not _SENTENCE_END.search(line) and not line.endswith(".") \
            and not re.search(r"\d{1,2}/\d{1,2}", line):
        return line
    return None


def parse_labelled_byline(text: str) -> str | None:
    """The author of a line that says it names one: ``Tác giả: …``, ``Nguồn: …``,
    ``Theo …``, ``(Văn Hùng)``. Unlabelled lines give None (outside the body a
    bare name-shaped line is as likely a menu entry as a signature)."""
    line = clean_line(text)
    if not line or len(line) > 120:
        return None
    if _LABELLED.match(line) or (_PARENS.match(line) and looks_like_name(line[1:-1], strict=False)):
        return parse_byline(line, emphasised=True)
    return None


def split_people(author: str) -> list[str]:
    """``"Văn Hùng - Trung tâm VH-TT"`` → ``["Văn Hùng"]``;
    ``"Văn Hùng, Thùy Dung"`` → ``["Văn Hùng", "Thùy Dung"]``."""
    if author.startswith("Theo "):
        return []
    people = []
    for part in _SPLIT_PEOPLE.split(author):
        part = _TRAILING_UNIT.sub("", part).strip(" ()")
        if part and not _UNIT_WORDS.match(part):
            people.append(part)
    return people
