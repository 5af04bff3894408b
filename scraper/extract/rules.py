"""Cleaning rules are data: what a widget looks like, named and grouped.

A rule matches an element by CSS-like class/id fragments (``selectors``) or by
the Vietnamese label that heads the widget (``labels``, compared folded so
"Thống kê truy cập" and "THONG KE TRUY CAP" are the same). The cleaning steps
in :mod:`scraper.extract.steps` apply them; nothing else knows their contents.
"""

from __future__ import annotations

from dataclasses import dataclass

from scraper.extract.text import fold


@dataclass(frozen=True)
class WidgetRule:
    #: Stable name, reported in the crawl's stats (``poll``, ``counter`` …).
    name: str
    #: Group of rules (``widget``, ``navigation``, ``duplicate``, ``chrome``).
    group: str
    #: XPath expressions selecting elements to drop.
    xpaths: tuple[str, ...] = ()
    #: Labels heading the widget; the smallest box holding the label and no
    #: article text is dropped.
    labels: tuple[str, ...] = ()

    @property
    def folded_labels(self) -> tuple[str, ...]:
        return tuple(fold(label) for label in self.labels)


def _cls(*fragments: str) -> str:
    """XPath matching any element whose class or id contains one of ``fragments``."""
    tests = " or ".join(
        f"contains(translate(@class,'ABCDEFGHIJKLMNOPQRSTUVWXYZ','abcdefghijklmnopqrstuvwxyz'),'{f}')"
        f" or contains(translate(@id,'ABCDEFGHIJKLMNOPQRSTUVWXYZ','abcdefghijklmnopqrstuvwxyz'),'{f}')"
        for f in fragments
    )
    return f"//*[{tests}]"


#: Markup that is never article text.
CHROME = WidgetRule(
    name="chrome",
    group="chrome",
    xpaths=(
        "//script", "//style", "//noscript", "//template", "//iframe", "//object", "//embed",
        "//select", "//input", "//button", "//textarea", "//form//label[not(ancestor::article)]",
        "//comment()",
    ),
)

POLL = WidgetRule(
    name="poll",
    group="widget",
    xpaths=(_cls("poll", "vote", "survey", "thamdo", "binhchon"),),
    labels=("Ý kiến thăm dò", "Thăm dò ý kiến", "Bình chọn", "Khảo sát ý kiến"),
)

COUNTER = WidgetRule(
    name="counter",
    group="widget",
    xpaths=(_cls("counter", "visitor", "thongke", "luottruycap", "statistic", "online-count"),),
    labels=("Truy cập", "Thống kê truy cập", "Số lượt truy cập", "Lượt truy cập",
            "Thống kê lượt truy cập", "Đang online", "Tổng lượt truy cập"),
)

WEATHER = WidgetRule(
    name="weather",
    group="widget",
    xpaths=(_cls("weather", "thoitiet", "thoi-tiet"),),
    labels=("Dự báo thời tiết", "Thời tiết"),
)

LINKS = WidgetRule(
    name="links",
    group="widget",
    xpaths=(_cls("links-box", "lienket", "lien-ket", "weblink"),),
    labels=("Liên kết website", "Liên kết web", "Liên kết"),
)

RELATED = WidgetRule(
    name="related",
    group="navigation",
    xpaths=(_cls("other-news", "othernews", "related", "tinkhac", "tin-khac", "tinlienquan",
                 "tin-lien-quan", "same-category", "cungchuyenmuc"),),
    labels=("Các tin khác", "Tin khác", "Tin liên quan", "Tin cùng chuyên mục",
            "Bài viết liên quan", "Các bài viết khác", "Tin đã đưa", "Xem thêm"),
)

SHARE_PRINT = WidgetRule(
    name="share_print",
    group="navigation",
    xpaths=(_cls("news-tools", "share", "social", "addthis", "sharethis", "toolbar", "print-bar",
                 "print-tool"),),
    labels=("In bài viết", "Gửi email", "Chia sẻ", "In trang", "Bản in"),
)

MENUS = WidgetRule(
    name="menus",
    group="navigation",
    xpaths=(
        "//nav[not(ancestor::article)]", "//header[not(ancestor::article)]",
        "//footer[not(ancestor::article)]",
        _cls("menu", "breadcrumb", "navbar", "footer", "header-banner", "paging", "pagination"),
    ),
)

PRINT_COPY = WidgetRule(
    name="print_copy",
    group="duplicate",
    xpaths=(
        _cls("print-only", "print-area", "printarea", "print-content", "printcontent", "bản-in"),
        "//*[contains(translate(@style,' ',''),'display:none')]",
        "//*[@hidden]",
        "//*[@aria-hidden='true']",
    ),
)

#: Every rule, in the order the cleaning step applies them.
WIDGET_RULES: tuple[WidgetRule, ...] = (
    CHROME, PRINT_COPY, POLL, COUNTER, WEATHER, LINKS, RELATED, SHARE_PRINT, MENUS,
)


def rules_in(group: str) -> tuple[WidgetRule, ...]:
    return tuple(r for r in WIDGET_RULES if r.group == group)


#: Every widget label, folded, for quick "is this line a widget heading" checks
#: (used by the text-dump importer and the validation of bodies).
WIDGET_LABELS: frozenset[str] = frozenset(
    label for rule in WIDGET_RULES for label in rule.folded_labels
)
