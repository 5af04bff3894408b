"""DotNetNuke family: module panes (``DnnModule`` / ``ContentPane``).

The article is a news-detail module in ``dnn_ContentPane``: ``h1.tieude``,
``div.ngaydang`` ("Cập nhật lúc 16:48 - 15/01/2022", minutes only),
``div.noidung`` whose first paragraph is the bold lead, then the author line
``div.tacgia`` ("Tác giả: Văn Hùng") outside the body. The side panes carry
"Thăm dò ý kiến", "Thống kê truy cập" (Đang online / Hôm nay / Tổng lượt truy
cập), "Liên kết web" and weather modules; "Tin liên quan" follows the article.
"""

from __future__ import annotations

from scraper.extract.profiles import Profile, has_class
from scraper.extract.rules import WidgetRule

_cls = has_class


_DETAIL = f"//div[{_cls('DnnModule')}]//div[{_cls('c_news')}]"

DNN = Profile(
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
