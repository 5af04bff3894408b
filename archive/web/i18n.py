"""The web UI's languages: a gettext catalogue (Babel), Vietnamese first, and local dates.

Messages are written in English in the code and templates (``_("Search")``)
and translated by ``locale/<lang>/LC_MESSAGES/messages.po``. The ``.po``
files are the source: they are compiled in memory when first used (Babel's
own compiler), so a clean checkout needs no build step. ``make i18n``
re-extracts the messages into ``messages.pot`` and updates the catalogues.

The language of a request is a context variable set by
:mod:`archive.web.guard` (``?lang=`` or the ``pa_lang`` cookie; Vietnamese
by default); :func:`gettext` and the date helpers read it.
"""

from __future__ import annotations

import gettext as _gettext
import io
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, date, datetime, timedelta
from functools import cache
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from scraper.extract.article import VIETNAM_TZ

LANGUAGES = ("vi", "en")
DEFAULT_LANGUAGE = "vi"
COOKIE = "pa_lang"
LOCALE_DIR = Path(__file__).with_name("locale")
DOMAIN = "messages"

_language: ContextVar[str] = ContextVar("pa_language", default=DEFAULT_LANGUAGE)


@contextmanager
def use_language(lang: str) -> Iterator[None]:
    """Run the block with ``lang`` as the UI language."""
    token = _language.set(lang if lang in LANGUAGES else DEFAULT_LANGUAGE)
    try:
        yield
    finally:
        _language.reset(token)


def current_language() -> str:
    return _language.get()


@cache
def translations(lang: str) -> _gettext.NullTranslations:
    """The compiled catalogue of ``lang`` (English is the messages themselves)."""
    po = LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"
    if not po.is_file():
        return _gettext.NullTranslations()
    with po.open("rb") as f:
        catalog = read_po(f, locale=lang)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return _gettext.GNUTranslations(buffer)


def gettext(message: str, **variables: object) -> str:
    text = translations(current_language()).gettext(message)
    return text % variables if variables else text


def ngettext(singular: str, plural: str, n: int, **variables: object) -> str:
    text = translations(current_language()).ngettext(singular, plural, n)
    return text % {"num": n, **variables}


_ = gettext


def number(n: int) -> str:
    """``12.345`` in Vietnamese, ``12,345`` in English."""
    text = f"{n:,}"
    return text.replace(",", ".") if current_language() == "vi" else text


# -------------------------------------------------------------------- dates
def _parse(value: str | datetime | None) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        moment = value
    else:
        try:
            moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(VIETNAM_TZ)


def local_datetime(value: str | datetime | None) -> str:
    """``15/01/2022 16:48`` in Vietnam time (how dates are written in Vietnam), '' if none."""
    moment = _parse(value)
    return moment.strftime("%d/%m/%Y %H:%M") if moment else ""


def local_date(value: str | datetime | None) -> str:
    """``15/01/2022`` in Vietnam time, '' if none."""
    moment = _parse(value)
    return moment.strftime("%d/%m/%Y") if moment else ""


def today_vietnam() -> date:
    return datetime.now(VIETNAM_TZ).date()


def relative_ranges(today: date | None = None) -> list[tuple[str, str, str | None]]:
    """Date ranges offered next to the filters: ``(label, since, until)`` as filter values."""
    day = today or today_vietnam()
    return [
        (gettext("Last 7 days"), (day - timedelta(days=7)).isoformat(), None),
        (gettext("Last 30 days"), (day - timedelta(days=30)).isoformat(), None),
        (gettext("This year (%(year)s)", year=day.year), str(day.year), str(day.year)),
        (gettext("Year %(year)s", year=day.year - 1), str(day.year - 1), str(day.year - 1)),
    ]
