"""The NukeViet, Tân Dân and Liferay profiles on pages of their platforms.

The three profiles are not in the profile registry yet (the layout-family
registry will list them); each test registers the profile it exercises for
its own duration and lets detection pick it, as a crawl would. Pages and
expected values are the fixture cases (``tests/fixtures/`` or, for cases the
generic path still gets wrong, ``tests/fixtures_pending/``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from scraper.extract import NotAnArticle, extract_article
from scraper.extract.profiles import PROFILES, Profile, liferay, nukeviet, tandan

TESTS = Path(__file__).resolve().parents[1]
NEW_PROFILES: dict[str, Profile] = {p.name: p for p in (nukeviet.NUKEVIET, tandan.TANDAN,
                                                        liferay.LIFERAY)}

#: (folder, profile that must be detected on it)
CASES = [
    ("fixtures_pending/nukeviet_default_site_name_author", "nukeviet"),
    ("fixtures_pending/nukeviet_savefile_print", "nukeviet"),
    ("fixtures_pending/tandan_signature_attachment", "tandan"),
    ("fixtures/liferay_asset_publisher_full_content", "liferay"),
    ("fixtures_pending/liferay_tag_line_date_only", "liferay"),
]
LISTINGS = ["platform_listings/tandan_listing_page", "platform_listings/liferay_asset_publisher_listing"]


@pytest.fixture
def registered(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, profile in NEW_PROFILES.items():
        monkeypatch.setitem(PROFILES, name, profile)


def _case(folder: str) -> tuple[bytes, dict[str, Any]]:
    d = TESTS / folder
    return (d / "page.html").read_bytes(), json.loads((d / "expected.json").read_text("utf-8"))


@pytest.mark.parametrize(("folder", "name"), CASES)
@pytest.mark.usefixtures("registered")
def test_profile_reads_its_platform(folder: str, name: str) -> None:
    html, spec = _case(folder)
    article = extract_article(html, spec["url"])
    assert article.extractor == name
    exp = spec["expected"]
    assert article.title == exp["title"]
    assert article.published is not None and article.published.isoformat() == exp["published"]
    assert article.author == exp["author"]
    assert article.body.split("\n\n") == exp["body_paragraphs"]
    assert [{"url": i.url, "caption": i.caption} for i in article.images] == exp["images"]
    text = "\n".join([article.body, article.body_html, article.author or ""]
                     + [i.caption or "" for i in article.images])
    assert [s for s in spec["absent"] if s in text] == []


@pytest.mark.parametrize("folder", LISTINGS)
def test_a_listing_is_not_an_article(folder: str) -> None:
    html, spec = _case(folder)
    with pytest.raises(NotAnArticle) as info:
        extract_article(html, spec["url"])
    assert info.value.reason == spec["not_an_article"] == "listing"


@pytest.mark.parametrize("folder", LISTINGS)
@pytest.mark.usefixtures("registered")
def test_no_profile_claims_a_listing(folder: str) -> None:
    html, spec = _case(folder)
    with pytest.raises(NotAnArticle) as info:
        extract_article(html, spec["url"])
    assert info.value.reason == "listing"


@pytest.mark.parametrize(("module", "path", "kind"), [
    (nukeviet, "/vi/news/tin-tuc-su-kien/xa-muong-than-ra-quan-118.html", "article"),
    (nukeviet, "/index.php/vi/news/thong-bao/de-an-thanh-lap-105.html", "article"),
    (nukeviet, "/vi/news/savefile/thong-bao/de-an-thanh-lap-105.html", "duplicate"),
    (nukeviet, "/vi/news/print/thong-bao/de-an-thanh-lap-105.html", "duplicate"),
    (nukeviet, "/vi/news/tin-tuc-su-kien/", "listing"),
    (nukeviet, "/vi/news/tin-tuc-su-kien/page-3", "listing"),
    (nukeviet, "/vi/news/rss/tin-tuc-su-kien/", "feed"),
    (nukeviet, "/vi/about/gioi-thieu-chung.html", "static"),
    (tandan, "/portal/Pages/2023-02-11/Mot-so-bien-phap-ky-thuat.aspx", "article"),
    (tandan, "/portal/Pages/2023-2-11/Mot-so-bien-phap-ky-thuat.aspx", "article"),
    (tandan, "/portal/Pages/Nong-nghiep.aspx", "listing"),
    (liferay, "/web/dinhhoa/tin-tuc-su-kien/-/asset_publisher/Xk2pQ7aLmN0b/content/hoi-nghi-2024",
     "article"),
    (liferay, "/web/dinhhoa/tin-tuc-su-kien", "listing"),
])
def test_link_rules(module: Any, path: str, kind: str) -> None:
    groups = {
        "article": module.ARTICLE_PATTERNS,
        "duplicate": getattr(module, "DUPLICATE_PATTERNS", ()),
        "listing": module.LISTING_PATTERNS,
        "feed": getattr(module, "FEED_PATTERNS", ()),
        "static": getattr(module, "STATIC_PATTERNS", ()),
    }
    matched = [k for k, patterns in groups.items() if any(p.match(path) for p in patterns)]
    assert matched == [kind]


@pytest.mark.parametrize(("module", "url", "page"), [
    (nukeviet, "/vi/news/tin-tuc-su-kien/page-3", 3),
    (tandan, "/portal/Pages/Nong-nghiep.aspx?PageIndex=2", 2),
    (liferay, "/web/dinhhoa/tin-tuc-su-kien?p_p_id=101_INSTANCE_Xk2pQ7aLmN0b&"
              "_101_INSTANCE_Xk2pQ7aLmN0b_cur=12", 12),
])
def test_paging(module: Any, url: str, page: int) -> None:
    m = module.PAGING.search(url)
    assert m is not None and int(m.group(1)) == page
