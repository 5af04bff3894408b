"""The NukeViet, Tân Dân and Liferay families on pages of their platforms.

The families' profiles are registered (``scraper/families/<name>.py``), so
detection picks them as a crawl would. Pages and expected values are the
fixture cases (``tests/fixtures/`` or, for cases the extractor still gets
wrong, ``tests/fixtures_pending/``); the link rules are the families' own.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from scraper.extract import NotAnArticle, extract_article
from scraper.extract.profiles import PROFILES
from scraper.families import family, link_rules

TESTS = Path(__file__).resolve().parents[1]

#: (folder, profile that must be detected on it)
CASES = [
    ("fixtures/nukeviet_default_site_name_author", "nukeviet"),
    ("fixtures/nukeviet_savefile_print", "nukeviet"),
    ("fixtures/tandan_signature_attachment", "tandan"),
    ("fixtures/liferay_asset_publisher_full_content", "liferay"),
    ("fixtures/liferay_tag_line_date_only", "liferay"),
]
#: Cases the profile is detected on but does not read right yet (see the README there).
PENDING = [
    ("fixtures/nukeviet_egov_counter_attachments", "nukeviet"),
    ("fixtures/tandan_summary_outside_body", "tandan"),
]
LISTINGS = ["platform_listings/tandan_listing_page", "platform_listings/liferay_asset_publisher_listing"]


def _case(folder: str) -> tuple[bytes, dict[str, Any]]:
    d = TESTS / folder
    return (d / "page.html").read_bytes(), json.loads((d / "expected.json").read_text("utf-8"))


def test_the_platform_families_are_registered() -> None:
    for name in ("nukeviet", "tandan", "liferay"):
        assert PROFILES[name] is family(name).profile
        assert link_rules(name) is family(name).links


@pytest.mark.parametrize(("folder", "name"), CASES)
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


@pytest.mark.parametrize(("folder", "name"), PENDING)
def test_profile_is_detected_on_the_pending_cases(folder: str, name: str) -> None:
    html, spec = _case(folder)
    article = extract_article(html, spec["url"])
    assert article.extractor == name
    assert article.title == spec["expected"]["title"]


@pytest.mark.parametrize("folder", LISTINGS)
@pytest.mark.parametrize("profile", [None, "generic"])
def test_a_listing_is_not_an_article(folder: str, profile: str | None) -> None:
    html, spec = _case(folder)
    with pytest.raises(NotAnArticle) as info:
        extract_article(html, spec["url"], profile=profile)
    assert info.value.reason == spec["not_an_article"] == "listing"


H = "https://xa.example.gov.vn"


@pytest.mark.parametrize(("name", "url", "kind"), [
    ("nukeviet", f"{H}/vi/news/tin-tuc-su-kien/xa-muong-than-ra-quan-118.html", "article"),
    ("nukeviet", f"{H}/index.php/vi/news/thong-bao/de-an-thanh-lap-105.html", "article"),
    ("nukeviet", f"{H}/vi/tin-tuc/thong-bao/de-an-thanh-lap-105.html", "article"),
    ("nukeviet", f"{H}/vi/news/tin-tuc-su-kien/", "listing"),
    ("nukeviet", f"{H}/vi/news/tin-tuc-su-kien/page-3", "listing"),
    ("nukeviet", f"{H}/vi/", "listing"),
    ("nukeviet", f"{H}/vi/news/rss/tin-tuc-su-kien/", "other"),
    ("nukeviet", f"{H}/vi/about/gioi-thieu-chung.html", "other"),
    ("nukeviet", f"{H}/uploads/news/2025_03/ke-hoach.pdf", "skip"),
    ("tandan", f"{H}/portal/Pages/2023-02-11/Mot-so-bien-phap-ky-thuat.aspx", "article"),
    ("tandan", f"{H}/portal/Pages/2023-2-11/Mot-so-bien-phap-ky-thuat.aspx", "article"),
    ("tandan", f"{H}/portal/Pages/Nong-nghiep.aspx", "listing"),
    ("tandan", f"{H}/portal/Pages/Nong-nghiep.aspx?PageIndex=2", "listing"),
    ("tandan", f"{H}/portal/Pages/default.aspx", "listing"),
    ("liferay", f"{H}/web/dinhhoa/tin-tuc-su-kien/-/asset_publisher/Xk2pQ7aLmN0b/content/"
                "hoi-nghi-2024", "article"),
    ("liferay", f"{H}/web/dinhhoa/-/journal_content/56_INSTANCE_aB3/20931/1204567", "article"),
    ("liferay", f"{H}/web/dinhhoa/tin-tuc-su-kien", "listing"),
    ("liferay", f"{H}/web/dinhhoa", "listing"),
])
def test_link_rules(name: str, url: str, kind: str) -> None:
    assert link_rules(name).classify(url) == kind


@pytest.mark.parametrize(("name", "url", "same"), [
    # The print, savefile and send-mail copies of a NukeViet article are the article.
    ("nukeviet", f"{H}/vi/news/savefile/thong-bao/de-an-thanh-lap-105.html",
     f"{H}/vi/news/thong-bao/de-an-thanh-lap-105.html"),
    ("nukeviet", f"{H}/vi/news/print/thong-bao/de-an-thanh-lap-105.html",
     f"{H}/vi/news/thong-bao/de-an-thanh-lap-105.html"),
    ("nukeviet", f"{H}/index.php/vi/news/sendmail/thong-bao/de-an-thanh-lap-105.html",
     f"{H}/index.php/vi/news/thong-bao/de-an-thanh-lap-105.html"),
    ("tandan", f"{H}/portal/Pages/2023-02-11/Mot-so-bien-phap.aspx?Source=%2Fportal",
     f"{H}/portal/Pages/2023-02-11/Mot-so-bien-phap.aspx"),
    ("liferay", f"{H}/web/dinhhoa/tin/-/asset_publisher/Xk2/content/hoi-nghi?redirect=%2Fweb"
                "%2Fdinhhoa%2Ftin&inheritRedirect=true", f"{H}/web/dinhhoa/tin/-/asset_publisher/"
                                                         "Xk2/content/hoi-nghi"),
])
def test_same_page(name: str, url: str, same: str) -> None:
    assert link_rules(name).same_page(url) == same
    assert link_rules(name).same_page(same) == same


@pytest.mark.parametrize(("name", "url", "page"), [
    ("nukeviet", f"{H}/vi/news/tin-tuc-su-kien/page-3", 3),
    ("nukeviet", f"{H}/vi/news/tin-tuc-su-kien/", 1),
    ("tandan", f"{H}/portal/Pages/Nong-nghiep.aspx?PageIndex=2", 2),
    ("liferay", f"{H}/web/dinhhoa/tin-tuc-su-kien?p_p_id=101_INSTANCE_Xk2pQ7aLmN0b&"
                "_101_INSTANCE_Xk2pQ7aLmN0b_cur=12", 12),
])
def test_paging(name: str, url: str, page: int) -> None:
    found = link_rules(name).listing_page(url)
    assert found is not None and found[1] == page
