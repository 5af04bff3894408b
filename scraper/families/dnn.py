"""DotNetNuke family: module panes (``DnnModule`` / ``ContentPane``).

The article is a news-detail module in ``dnn_ContentPane``: ``h1.tieude``,
``div.ngaydang`` ("Cập nhật lúc 16:48 - 15/01/2022", minutes only, no seconds
anywhere on the page), ``div.noidung`` whose first paragraph is the bold lead,
then the author line ``div.tacgia`` ("Tác giả: Văn Hùng") outside the body.
The side panes carry "Thăm dò ý kiến", "Thống kê truy cập" (Đang online /
Hôm nay / Tổng lượt truy cập), "Liên kết web" and weather modules;
"Tin liên quan" follows the article.
"""

from __future__ import annotations

from datetime import datetime

from scraper.extract.profiles import Profile, has_class
from scraper.extract.rules import WidgetRule
from scraper.families import LayoutFamily
from scraper.families.links import rules_from_scheme
from scraper.families.signals import Signal
from scraper.families.urls import UrlScheme, slugify

_cls = has_class
_DETAIL = f"//div[{_cls('DnnModule')}]//div[{_cls('c_news')}]"

PROFILE = Profile(
    name="dnn",
    version="1",
    hint="DnnModule",
    detect=f"{_DETAIL}//h1[{_cls('tieude')}]",
    root=f"{_DETAIL}//div[{_cls('noidung')}]",
    title=f"{_DETAIL}//h1[{_cls('tieude')}]",
    date=f"{_DETAIL}//div[{_cls('ngaydang')}]",
    category=f"//div[{_cls('dnnBreadcrumb')}]//a",
    author=f"{_DETAIL}//div[{_cls('tacgia')}]",
    extra_rules=(
        WidgetRule(name="panes", group="widget",
                   xpaths=("//div[@id='dnn_LeftPane']", "//div[@id='dnn_RightPane']",
                           "//div[@id='dnn_FooterPane']", f"//div[{_cls('congcu')}]")),
    ),
)


class DnnScheme(UrlScheme):
    """DotNetNuke friendly URLs.

    * home ``/`` (also ``/trang-chu``)
    * listing ``/chuyen-muc/tin-tuc-su-kien`` then ``...?page=2``
    * article ``/tin-tuc/ubnd-huyen-lam-viec-...-123.html``
    * image ``/Portals/0/Images/2022/01/<file>``; banner ``/Portals/0/banner.jpg``
    * search ``/tim-kiem`` (disallowed by robots.txt); stylesheet ``/Portals/_default/skin.css``
    """

    article_path = r"/tin-tuc/[a-z0-9-]+-(?P<id>\d{1,9})\.html"
    listing_path = r"/chuyen-muc/(?P<slug>[a-z0-9-]+)"
    page_query = "page"
    image_path = r"/Portals/0/Images/\d{4}/\d{2}/(?P<file>[^/]+)"
    home_paths = ("/", "/trang-chu")
    disallow = ("/tim-kiem",)
    static = {"/Portals/_default/skin.css": "skin.css"}

    def listing(self, category_name: str, page: int = 1) -> str:
        path = f"/chuyen-muc/{self.slug(category_name)}"
        return path if page == 1 else f"{path}?page={page}"

    def article(self, article_id: int, published: datetime, title: str,
                category: str = "") -> str:
        return f"/tin-tuc/{slugify(title, 90).lower()}-{article_id}.html"

    def image(self, published: datetime, file: str) -> str:
        return f"/Portals/0/Images/{published.year:04d}/{published.month:02d}/{file}"

    def banner(self) -> str:
        return "/Portals/0/banner.jpg"

    def search(self) -> str:
        return "/tim-kiem"


SCHEME = DnnScheme()

SIGNALS = (
    Signal("generator", r"DotNetNuke|\bDNN\b", 5, "generator meta names DotNetNuke"),
    Signal("html", r"\bDnnModule\b|id=\"dnn_\w+Pane\"", 4,
           "DotNetNuke module panes (DnnModule, dnn_ContentPane)"),
    Signal("link", r"^/Portals/(?:\d+|_default)/", 2, "assets under /Portals/<n>/"),
    Signal("cookie", r"^(?:dnn_IsMobile|\.ASPXANONYMOUS)$", 3, "DotNetNuke cookies (dnn_IsMobile)"),
)

FAMILY = LayoutFamily(
    name="dnn",
    description="DotNetNuke module panes (DnnModule / ContentPane)",
    profile=PROFILE,
    links=rules_from_scheme("dnn", SCHEME),
    scheme=SCHEME,
    templates="dnn",
    date_text=lambda published: published.strftime("Cập nhật lúc %H:%M - %d/%m/%Y"),
    page_time=lambda published: published.replace(second=0, microsecond=0),
    signals=SIGNALS,
)
