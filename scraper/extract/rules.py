"""Cleaning rules are data: what a widget looks like, named and grouped.

A rule matches an element by CSS-like class/id fragments (``selectors``) or by
the Vietnamese label that heads the widget (``labels``, compared folded so
"Thống kê truy cập" and "THONG KE TRUY CAP" are the same). The cleaning steps
in :mod:`scraper.extract.widgets` apply them; nothing else knows their contents.
"""

from __future__ import annotations

from dataclasses import dataclass

from scraper.extract.text import fold


@dataclass(frozen=True, eq=False)  # identity: rules are singletons, hashed often
class WidgetRule:
    #: Stable name, reported in the crawl's stats (``poll``, ``counter`` …).
    name: str
    #: Group of rules (``widget``, ``navigation``, ``duplicate``, ``chrome``).
    group: str
    #: Fragments of class or id names (lower case) marking the widget's box.
    classes: tuple[str, ...] = ()
    #: Tag names of elements to drop wherever they are (one C-level pass for all).
    tags: tuple[str, ...] = ()
    #: XPath expressions selecting elements to drop.
    xpaths: tuple[str, ...] = ()
    #: Labels heading the widget; the smallest box holding the label and no
    #: article text is dropped.
    labels: tuple[str, ...] = ()
    #: The label heads a section that may hold prose (news summaries, readers'
    #: comments): when the label's box cannot grow past that prose, the section
    #: goes anyway — the box the label opens, or, in a flat container, the label
    #: and everything after it (such sections close an article, never open it).
    sweep: bool = False
    #: Strings one of which the page's HTML must contain for ``xpaths`` to be
    #: evaluated at all (a cheap pre-check; empty: always evaluated).
    needs: tuple[str, ...] = ()

    @property
    def folded_labels(self) -> tuple[str, ...]:
        return tuple(fold(label) for label in self.labels)


#: Markup that is never article text.
CHROME = WidgetRule(
    name="chrome",
    group="chrome",
    tags=("script", "style", "noscript", "template", "iframe", "object", "embed", "select",
          "input", "button", "textarea"),
    xpaths=("//form//label[not(ancestor::article)] | //comment()",),
)

POLL = WidgetRule(
    name="poll",
    group="widget",
    classes=("poll", "vote", "survey", "thamdo", "binhchon"),
    labels=("Ý kiến thăm dò", "Thăm dò ý kiến", "Bình chọn", "Khảo sát ý kiến"),
)

COUNTER = WidgetRule(
    name="counter",
    group="widget",
    classes=("counter", "visitor", "thongke", "luottruycap", "statistic", "online-count"),
    labels=("Truy cập", "Thống kê truy cập", "Số lượt truy cập", "Lượt truy cập",
            "Thống kê lượt truy cập", "Đang online", "Tổng lượt truy cập"),
)

WEATHER = WidgetRule(
    name="weather",
    group="widget",
    classes=("weather", "thoitiet", "thoi-tiet"),
    labels=("Dự báo thời tiết", "Thời tiết"),
)

LINKS = WidgetRule(
    name="links",
    group="widget",
    classes=("links-box", "lienket", "lien-ket", "weblink"),
    labels=("Liên kết website", "Liên kết web", "Liên kết"),
)

RELATED = WidgetRule(
    name="related",
    group="navigation",
    classes=("other-news", "othernews", "related", "tinkhac", "tin-khac", "tinlienquan",
                 "tin-lien-quan", "same-category", "cungchuyenmuc"),
    labels=("Các tin khác", "Tin khác", "Tin liên quan", "Tin cùng chuyên mục",
            "Bài viết liên quan", "Các bài viết khác", "Tin đã đưa", "Xem thêm",
            "Tin mới", "Tin mới nhất", "Tin mới cập nhật", "Bài viết mới", "Tin đọc nhiều",
            "Tin xem nhiều", "Tin nổi bật", "Lưu trữ"),
    sweep=True,
)

SHARE_PRINT = WidgetRule(
    name="share_print",
    group="navigation",
    classes=("news-tools", "share", "social", "addthis", "sharethis", "toolbar", "print-bar",
                 "print-tool"),
    labels=("In bài viết", "Gửi email", "Chia sẻ", "In trang", "Bản in"),
)

COMMENTS = WidgetRule(
    name="comments",
    group="navigation",
    classes=("comment", "binhluan", "binh-luan"),
    labels=("Bình luận", "Ý kiến bạn đọc", "Gửi bình luận", "Để lại bình luận",
            "Để lại một bình luận", "Gửi ý kiến", "Ý kiến của bạn"),
    sweep=True,
)

MENUS = WidgetRule(
    name="menus",
    group="navigation",
    xpaths=(
        "//nav[not(ancestor::article)] | //header[not(ancestor::article)] | "
        "//footer[not(ancestor::article)]",
    ),
    classes=("menu", "breadcrumb", "navbar", "footer", "header-banner", "paging", "pagination"),
)

PRINT_COPY = WidgetRule(
    name="print_copy",
    group="duplicate",
    classes=("print-only", "print-area", "printarea", "print-content", "printcontent"),
    needs=("none", "NONE", "None", "hidden", "HIDDEN", "Hidden"),
    # Hidden by style, ``hidden`` or ``aria-hidden="true"``: one pass over the
    # elements, the cheap attribute test first (three ``//*`` branches cost
    # twice as much).
    xpaths=(
        "//*[@style or @hidden or @aria-hidden][@hidden or @aria-hidden='true' or "
        "contains(translate(@style,' ',''),'display:none')]",
    ),
)

#: Every rule, in the order the cleaning step applies them.
WIDGET_RULES: tuple[WidgetRule, ...] = (
    CHROME, PRINT_COPY, POLL, COUNTER, WEATHER, LINKS, RELATED, SHARE_PRINT, COMMENTS, MENUS,
)


def rules_in(group: str) -> tuple[WidgetRule, ...]:
    return tuple(r for r in WIDGET_RULES if r.group == group)


#: Every widget label, folded, for quick "is this line a widget heading" checks
#: (used by the text-dump importer and the validation of bodies).
WIDGET_LABELS: frozenset[str] = frozenset(
    label for rule in WIDGET_RULES for label in rule.folded_labels
)


# ------------------------------------------------------------ text dumps
# Plain-text dumps of whole pages (``parse_text_dump``) have no markup: the
# chrome is recognised line by line. Compared folded, like the labels above.

#: Lines of the tool bar under a dateline, and of buttons.
TEXT_TOOL_LINES: frozenset[str] = frozenset(fold(x) for x in (
    "Print", "In", "In bài", "In bài viết", "In trang", "Bản in", "Gửi email", "Gửi bài viết",
    "Email", "E-mail", "Chia sẻ", "Share", "Thích", "Like", "Tweet", "Zalo", "Facebook",
    "Cỡ chữ", "A A A", "A- A A+", "A+ A A-", "A- A+", "Quay lại", "Trở về", "Về đầu trang",
    "Lên đầu trang", "Bình luận", "Biểu quyết", "Xem kết quả", "Kết quả", "Lưu bài viết",
    "Lưu tin", "Đánh giá bài viết", "Font size", "Trang chủ", "Tìm kiếm", "Đăng nhập",
))
#: Tool lines that carry a value after their label (``Lượt xem: 1234``).
TEXT_TOOL_PREFIXES: tuple[str, ...] = tuple(fold(x) for x in (
    "Lượt xem", "Số lượt xem", "Lượt đọc", "Cỡ chữ", "Font size", "Chia sẻ", "Xem:",
))
#: Fields of visitor counters; their number is on the same or the next line.
COUNTER_FIELDS: tuple[str, ...] = tuple(fold(x) for x in (
    "Hôm nay", "Hôm qua", "Tuần này", "Tuần trước", "Tháng này", "Tháng trước", "Năm nay",
    "Tất cả", "Tổng cộng", "Đang online", "Đang truy cập", "Trực tuyến", "Lượt truy cập",
    "Tổng lượt truy cập", "Số lượt truy cập", "Tổng số lượt truy cập", "Khách", "Thành viên",
))
#: Lines that open a page footer: nothing after them is the article, and the
#: names they give (``Chịu trách nhiệm: …``) are not authors.
FOOTER_LABELS: tuple[str, ...] = tuple(fold(x) for x in (
    "Chịu trách nhiệm", "Bản quyền", "Copyright", "©", "Cơ quan chủ quản", "Cơ quan chủ trì",
    "Giấy phép", "Ghi rõ nguồn", "Trưởng ban biên tập", "Trưởng Ban Biên tập", "Địa chỉ:",
    "Điện thoại:", "Fax:", "Thiết kế bởi", "Phát triển bởi", "Đơn vị thiết kế",
))
