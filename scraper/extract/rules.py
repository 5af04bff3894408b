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
    classes=("counter", "visitor", "thongke", "luottruycap", "statistic", "online-count",
             "view-count", "viewcount", "luotxem", "luot-xem", "hit-count"),
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
            "Tin xem nhiều", "Tin nổi bật", "Lưu trữ", "Các tin đã đưa", "Những tin mới hơn",
            "Những tin cũ hơn", "Tin mới hơn", "Tin cũ hơn", "Tin cùng loại", "Tin bài khác",
            "Các tin cũ hơn", "Tin tức khác", "Bài viết khác", "Các tin bài khác", "Có liên quan",
            "Bài viết có liên quan", "Bài liên quan", "Tin bài liên quan", "Related",
            "Related posts", "Related articles", "Tin cùng danh mục", "Bài viết cùng chuyên mục"),
    sweep=True,
)

SHARE_PRINT = WidgetRule(
    name="share_print",
    group="navigation",
    # Share and print buttons by where they lead (their titles repeat this or
    # name other articles: "Chia sẻ: <title>", "In bài: <title>").
    xpaths=(
        "//a[contains(@href, 'sharer') or contains(@href, 'twitter.com/intent')"
        " or contains(@href, 'twitter.com/share') or contains(@href, 'sp.zalo.me')"
        " or contains(@href, '?share=') or contains(@href, 'linkedin.com/share')"
        " or contains(@href, 'window.print') or contains(@onclick, 'print')"
        " or contains(@href, 'PrintArticle') or contains(@href, '/print/')"
        " or contains(@href, 'print=1')]",
    ),
    needs=("share", "print", "Print", "zalo"),
    classes=("news-tools", "share", "social", "addthis", "sharethis", "toolbar", "print-bar",
                 "print-tool"),
    labels=("In bài viết", "Gửi email", "Chia sẻ", "In trang", "Bản in"),
)

COMMENTS = WidgetRule(
    name="comments",
    group="navigation",
    classes=("comment", "binhluan", "binh-luan"),
    labels=("Bình luận", "Ý kiến bạn đọc", "Gửi bình luận", "Để lại bình luận",
            "Để lại một bình luận", "Gửi ý kiến", "Ý kiến của bạn", "Viết bình luận",
            "Gửi ý kiến phản hồi", "Ý kiến phản hồi"),
    sweep=True,
)

RATING = WidgetRule(
    name="rating",
    group="widget",
    classes=("rating", "danhgia", "danh-gia", "star-rating", "hover-star"),
    labels=("Đánh giá", "Đánh giá bài viết", "Đánh giá của bạn", "Xếp hạng",
            "Bình chọn bài viết"),
)

TAGS = WidgetRule(
    name="tags",
    group="navigation",
    classes=("news-tags", "td-tags", "tag-list", "taglist", "tags-list", "post-tags",
             "entry-tags", "keyword", "tukhoa", "tu-khoa"),
    labels=("Từ khóa", "Từ khoá", "Tags", "Tag", "Thẻ", "Từ khóa liên quan"),
)

ATTACHMENTS = WidgetRule(
    name="attachments",
    group="navigation",
    classes=("attachments", "download-file", "dinhkem", "dinh-kem", "file-attach", "attach-file",
             "news-attach", "filedinhkem"),
    labels=("Tài liệu đính kèm", "File đính kèm", "Tệp đính kèm", "Tập tin đính kèm",
            "Văn bản đính kèm", "Đính kèm", "Tải về", "Tải xuống", "Download"),
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
        # Bootstrap's always-hidden classes (``hidden-xs``, ``d-none d-md-block``
        # hide only at some widths and are not matched).
        "//*[@class][contains(concat(' ', normalize-space(@class), ' '), ' hidden ') or "
        "contains(concat(' ', normalize-space(@class), ' '), ' hide ')]",
    ),
)

#: Every rule, in the order the cleaning step applies them.
WIDGET_RULES: tuple[WidgetRule, ...] = (
    CHROME, PRINT_COPY, POLL, COUNTER, WEATHER, LINKS, RELATED, SHARE_PRINT, COMMENTS, RATING,
    TAGS, ATTACHMENTS, MENUS,
)


# ------------------------------------------------------------ labelled lines
# A widget that is one line: its label, then a value (``Lượt xem: 1.146``,
# ``Từ khóa: nông thôn mới, Phú Đình``). Compared folded, at the line's start;
# the line goes when it is short and is nothing but label and value.

#: Counters: the value is a number.
COUNTER_LINE_LABELS: tuple[str, ...] = tuple(fold(x) for x in (
    "Lượt xem", "Số lượt xem", "Số lượt người xem", "Lượt người xem", "Lượt đọc", "Số lượt đọc",
    "Lượt truy cập", "Số lần xem", "Lượt bình luận", "Đã xem", "Xem",
))
#: Tag and keyword lines: the value is a list of tags (usually links).
TAG_LINE_LABELS: tuple[str, ...] = tuple(fold(x) for x in (
    "Từ khóa", "Từ khoá", "Tags", "Tag", "Thẻ", "Keywords", "Từ khóa liên quan",
))
#: Rating lines of a vote widget.
#: (A digit must follow: "Xếp hạng: 5 - 3 phiếu bầu", "Trung bình (2 Phiếu)".)
RATING_LINE_LABELS: tuple[str, ...] = tuple(fold(x) for x in (
    "Tổng số điểm của bài viết", "Tổng số điểm", "Xếp hạng:", "Đánh giá:", "Trung bình (",
    "Điểm đánh giá", "Lượt đánh giá",
))


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
    "In ra", "Đóng cửa sổ này", "Lưu bài viết này", "Giới thiệu bài viết cho bạn bè", "Tải về",
    "Tải xuống", "Download", "Xem nhanh", "Gửi bình luận", "Gửi", "Click để đánh giá bài viết",
))
#: Tool lines that carry a value after their label (``Lượt xem: 1234``).
TEXT_TOOL_PREFIXES: tuple[str, ...] = tuple(fold(x) for x in (
    "Lượt xem", "Số lượt xem", "Lượt đọc", "Cỡ chữ", "Font size", "Chia sẻ", "Xem:",
    "Số lượt người xem", "Lượt người xem", "Số lượt đọc", "Từ khóa:", "Từ khoá:", "Tags:", "Thẻ:",
    "Tổng số điểm", "Xếp hạng:", "Đánh giá:", "URL của bản tin này",
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
