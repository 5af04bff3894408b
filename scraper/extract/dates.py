"""Vietnamese publication timestamps.

Day first, always. Formats seen on district portals::

    Ngày 15/01/2022 16:48:18
    Đăng lúc: 15/01/2022 16:48:18 (GMT+7)
    Đăng lúc: 06:33:47 07/10/2017 (GMT+7)
    Cập nhật lúc 16:48 - 15/01/2022
    Thứ Bảy, 15/01/2022 - 16:48
    15/01/2022
    ngày 15 tháng 01 năm 2022 / 15 tháng 1, năm 2022
    March 15, 2022 4:48 PM / 15 March 2022 / 15 Mar 2022   (English themes)
    2022-01-15T16:48:18+07:00            (meta, JSON-LD, <time datetime>)

Pages that give no zone are Vietnam time (+07:00).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone

from scraper.extract.article import VIETNAM_TZ
from scraper.extract.text import clean_line

_TIME = r"(?P<H>\d{1,2})\s*(?::|h|giờ)\s*(?P<M>\d{2})(?:\s*:\s*(?P<S>\d{2}))?(?:\s*(?P<ampm>AM|PM|SA|CH))?"
_DMY = r"(?P<d>\d{1,2})\s*[/\-.]\s*(?P<m>\d{1,2})\s*[/\-.]\s*(?P<y>\d{4})"
_WORDS = r"(?<!\d)(?P<d>\d{1,2})\s+tháng\s+(?P<m>\d{1,2})\s*,?\s+(?:năm\s+)?(?P<y>\d{4})"
#: Months in words, as Vietnamese CMS translations print them ("Tháng Ba", "tháng Mười Hai").
_VI_MONTHS = {w: n for n, w in enumerate((
    "một", "hai", "ba", "tư", "năm", "sáu", "bảy", "tám", "chín", "mười", "mười một",
    "mười hai"), start=1)} | {"giêng": 1, "bốn": 4, "chạp": 12}
_VI_MONTH_NAME = "|".join(sorted(_VI_MONTHS, key=len, reverse=True))
_VI_WORDS_DMY = (rf"(?<!\d)(?P<d>\d{{1,2}})\s+tháng\s+(?P<vm>{_VI_MONTH_NAME})\s*,?\s+"
                 rf"(?:năm\s+)?(?P<y>\d{{4}})")
_VI_WORDS_MDY = (rf"\btháng\s+(?P<vm>{_VI_MONTH_NAME})\s+(?P<d>\d{{1,2}})\s*,\s*"
                 rf"(?P<y>\d{{4}})")
_MONTHS = {name: n for n, names in enumerate((
    ("january", "jan"), ("february", "feb"), ("march", "mar"), ("april", "apr"), ("may",),
    ("june", "jun"), ("july", "jul"), ("august", "aug"), ("september", "sep", "sept"),
    ("october", "oct"), ("november", "nov"), ("december", "dec")), start=1) for name in names}
_MONTH_NAME = "|".join(sorted(_MONTHS, key=len, reverse=True))
_ENGLISH_MDY = rf"\b(?P<mn>{_MONTH_NAME})\.?\s+(?P<d>\d{{1,2}})(?:st|nd|rd|th)?,?\s+(?P<y>\d{{4}})"
_ENGLISH_DMY = rf"(?<!\d)(?P<d>\d{{1,2}})(?:st|nd|rd|th)?\s+(?P<mn>{_MONTH_NAME})\.?,?\s+(?P<y>\d{{4}})"
_ZONE = re.compile(r"(?:GMT|UTC)\s*(?P<sign>[+-])\s*(?P<zh>\d{1,2})(?::?(?P<zm>\d{2}))?", re.I)
_ISO = re.compile(
    r"(?P<y>\d{4})-(?P<m>\d{2})-(?P<d>\d{2})"
    r"(?:[T ](?P<H>\d{2}):(?P<M>\d{2})(?::(?P<S>\d{2})(?:\.\d+)?)?"
    r"(?P<tz>Z|[+-]\d{2}:?\d{2})?)?"
)
_DATE_PATTERNS = [re.compile(_DMY), re.compile(_WORDS, re.I), re.compile(_VI_WORDS_DMY, re.I),
                  re.compile(_VI_WORDS_MDY, re.I), re.compile(_ENGLISH_MDY, re.I),
                  re.compile(_ENGLISH_DMY, re.I)]
#: Named weekdays (Monday = 0): they settle a numeric date's order (``Tue, 03/12/2024``
#: is month first; ``Thứ Ba, 12/03/2024`` day first).
_WEEKDAYS = re.compile(
    r"\b(?:(?P<en>mon|tue|wed|thu|fri|sat|sun)[a-z]*\.?|thứ\s+(?P<vi>hai|ba|tư|năm|sáu|bảy)|"
    r"(?P<cn>chủ\s+nhật)|(?P<t>t[2-7])\b|(?P<cn2>cn)\b)", re.I)
_EN_DAYS = {"mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4, "sat": 5, "sun": 6}
_VI_DAYS = {"hai": 0, "ba": 1, "tư": 2, "năm": 3, "sáu": 4, "bảy": 5}


def _named_weekday(text: str) -> int | None:
    m = _WEEKDAYS.search(text)
    if m is None:
        return None
    if m["en"]:
        return _EN_DAYS[m["en"].lower()]
    if m["vi"]:
        return _VI_DAYS[m["vi"].lower()]
    if m["t"]:
        return int(m["t"][1]) - 2
    return 6
_TIME_RE = re.compile(_TIME, re.I)
_DIGIT = re.compile(r"\d")


@dataclass(frozen=True)
class ParsedDate:
    value: datetime
    #: The text the date was read from, as shown.
    raw: str
    #: False when the page showed only a day (the time is then 00:00).
    has_time: bool


def _valid(y: int, m: int, d: int) -> date | None:
    if not 1990 <= y <= 2100:
        return None
    try:
        return date(y, m, d)
    except ValueError:
        return None


def _zone(text: str) -> timezone:
    z = _ZONE.search(text)
    if not z:
        return VIETNAM_TZ
    hours = int(z["zh"])
    minutes = int(z["zm"] or 0)
    if hours > 14 or minutes > 59:
        return VIETNAM_TZ
    delta = timedelta(hours=hours, minutes=minutes)
    if z["sign"] == "-":
        delta = -delta
    return VIETNAM_TZ if delta == timedelta(hours=7) else timezone(delta)


def _time_near(text: str, start: int, end: int) -> time | None:
    """The clock time written next to the date (before or after it)."""
    best: tuple[int, time] | None = None
    for t in _TIME_RE.finditer(text):
        if start <= t.start() < end:
            continue
        gap = t.start() - end if t.start() >= end else start - t.end()
        if gap > 24:
            continue
        h, mi, s = int(t["H"]), int(t["M"]), int(t["S"] or 0)
        ampm = (t["ampm"] or "").upper()
        if ampm in ("PM", "CH") and h < 12:
            h += 12
        elif ampm in ("AM", "SA") and h == 12:
            h = 0
        if h > 23 or mi > 59 or s > 59:
            continue
        if best is None or gap < best[0]:
            best = (gap, time(h, mi, s))
    return best[1] if best else None


def parse_iso(text: str) -> ParsedDate | None:
    """An ISO 8601 timestamp (meta tags, JSON-LD, ``<time datetime>``)."""
    raw = text.strip()
    m = _ISO.search(raw)
    if not m:
        return None
    d = _valid(int(m["y"]), int(m["m"]), int(m["d"]))
    if d is None:
        return None
    has_time = m["H"] is not None
    t = time(int(m["H"]), int(m["M"]), int(m["S"] or 0)) if has_time else time(0, 0)
    if t.hour > 23:
        return None
    tzs = m["tz"]
    if not tzs:
        tz = VIETNAM_TZ
    elif tzs == "Z":
        tz = UTC
    else:
        sign = -1 if tzs[0] == "-" else 1
        digits = tzs[1:].replace(":", "")
        delta = sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
        tz = VIETNAM_TZ if delta == timedelta(hours=7) else timezone(delta)
    return ParsedDate(datetime.combine(d, t, tzinfo=tz), raw, has_time)


def parse_vietnamese_date(text: str) -> ParsedDate | None:
    """The first day-first date in ``text``, with the clock time beside it if any."""
    raw = clean_line(text)
    if not raw or _DIGIT.search(raw) is None:
        return None  # every date has digits (the year at least)
    for pattern in _DATE_PATTERNS:
        for m in pattern.finditer(raw):
            groups = m.groupdict()
            month = _MONTHS[groups["mn"].lower()] if groups.get("mn") \
                else _VI_MONTHS[clean_line(groups["vm"]).lower()] if groups.get("vm") \
                else int(m["m"])
            d = _valid(int(m["y"]), month, int(m["d"]))
            if pattern is _DATE_PATTERNS[0]:
                d = _by_weekday(raw, d, int(m["y"]), int(m["m"]), int(m["d"]))
            if d is None:
                continue
            t = _time_near(raw, m.start(), m.end())
            value = datetime.combine(d, t or time(0, 0), tzinfo=_zone(raw))
            return ParsedDate(value, raw, t is not None)
    return parse_iso(raw)


def _by_weekday(text: str, dmy: date | None, y: int, first: int, second: int) -> date | None:
    """A numeric date read day first, unless the weekday the text names says it
    was written month first (``Tue, 03/12/2024`` is 12 March 2024)."""
    named = _named_weekday(text)
    if named is None or (dmy is not None and dmy.weekday() == named):
        return dmy
    mdy = _valid(y, second, first)
    return mdy if mdy is not None and mdy.weekday() == named else dmy


#: Phrases that introduce a page's own timestamp.
DATE_LABELS = ("ngày đăng", "đăng lúc", "đăng ngày", "cập nhật", "ngày cập nhật", "thời gian",
               "ngày", "thứ")


#: "Hôm nay: Thứ Hai, 20/06/2022": the header bar's current date, never a dateline.
_TODAY = re.compile(r"\W*(?:hôm nay|hom nay|today)\b", re.I)


def looks_like_dateline(text: str) -> bool:
    """A short line that is a timestamp and nothing else (not a body sentence)."""
    line = clean_line(text)
    if not line or len(line) > 80 or _TODAY.match(line) or _DIGIT.search(line) is None:
        return False
    parsed = parse_vietnamese_date(line)
    if parsed is None:
        return False
    # A dateline carries few words besides the date itself.
    rest = line
    for pattern in _DATE_PATTERNS:
        rest = pattern.sub(" ", rest)
    rest = _TIME_RE.sub(" ", rest)
    rest = _ZONE.sub(" ", rest)
    words = [w for w in re.split(r"[\s,:()\-|]+", rest) if w]
    return len(words) <= 6
