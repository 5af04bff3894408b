"""The demo portal: a real local HTTP server imitating a Thanh Hóa district portal.

Every test talks to a server started here on 127.0.0.1 (free port) with urllib.
"""

from __future__ import annotations

import html
import io
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from urllib.error import HTTPError
from urllib.parse import urljoin
from urllib.request import Request, urlopen

import pytest
from PIL import Image as PILImage

from scraper.demo.layouts import LAYOUTS, get_layout
from scraper.demo.render import Renderer
from scraper.demo.server import DemoServer
from scraper.demo.site import PAGE_SIZE, DemoSite, ImageRun, NotFound, Paragraph, load_seeds
from scraper.extract import VIETNAM_TZ

ROOT = Path(__file__).resolve().parents[2]
SEED_000 = "000_9a865e4b931171f1"
SEED_003 = "003_cc93db4dbeefc1dc"
HREF = re.compile(r'href="(/portal/Pages/[^"]+)"')
COUNTER_NUM = re.compile(r'<td class="num">\d+</td>')


def fetch(url: str, method: str = "GET") -> tuple[int, str, bytes]:
    """(status, content type, body) of a request; HTTP errors are returned, not raised."""
    try:
        with urlopen(Request(url, method=method), timeout=10) as resp:
            return resp.status, resp.headers["Content-Type"], resp.read()
    except HTTPError as err:
        return err.code, err.headers["Content-Type"], err.read()


def page(server: DemoServer, path: str) -> str:
    status, ctype, body = fetch(server.url(path))
    assert status == 200, path
    assert ctype == "text/html; charset=utf-8"
    return body.decode("utf-8")


@pytest.fixture(scope="module")
def site() -> DemoSite:
    return DemoSite(size=200, seed=1)


@pytest.fixture(scope="module")
def server(site: DemoSite) -> Iterator[DemoServer]:
    with DemoServer(site) as srv:
        yield srv


# ---------------------------------------------------------------- content
def test_articles_are_in_time_order_and_spread_over_years(site: DemoSite) -> None:
    articles = list(site.iter_articles())
    assert [a.id for a in articles] == list(range(1, site.article_count + 1))
    dates = [a.published for a in articles]
    assert all(a < b for a, b in zip(dates, dates[1:], strict=False))
    assert all(d.utcoffset() == VIETNAM_TZ.utcoffset(None) for d in dates)
    assert dates[0].year == 2016 and dates[-1].year == 2025
    assert len({a.category.slug for a in articles}) == len(site.categories) >= 3
    assert [a.id for a in site.iter_articles(newest_first=True)][:2] == [200, 199]


def test_synthetic_articles_vary_like_real_ones(site: DemoSite) -> None:
    articles = list(site.iter_articles())
    image_counts = {len(a.images) for a in articles}
    assert image_counts == {0, 1, 2, 3, 4}
    assert any(a.author is None for a in articles)
    assert any(a.author and " - " in a.author for a in articles)
    runs = [b for a in articles for b in a.blocks if isinstance(b, ImageRun)]
    assert {r.style for r in runs} == {"inline", "separate"}
    assert any(r.caption is None for r in runs) and any(r.caption for r in runs)
    texts = [b.text for a in articles for b in a.blocks if isinstance(b, Paragraph)]
    assert any(t.startswith("\xa0 \xa0 ") for t in texts)
    assert any(re.search(r"ngày \d{1,2}/\d{1,2}/\d{4}", t) for t in texts)
    assert all(2 <= len(a.paragraphs) <= 7 for a in articles if a.seed_key is None)
    for a in articles:  # a caption always belongs to one run: runs never touch
        kinds = "".join("i" if isinstance(b, ImageRun) else "p" if isinstance(b, Paragraph)
                        and b.text.strip() else "" for b in a.blocks)
        assert "ii" not in kinds, a.id
        files = [img.file for img, _ in a.images]
        assert a.seed_key or files == sorted(files), a.id


def test_headlines_agree_with_full_articles(site: DemoSite) -> None:
    for n in [*range(1, 40), *site.seed_ids.values(), site.article_count]:
        a, h = site.article(n), site.headline(n)
        assert (a.id, a.path, a.title, a.published, a.category) == \
            (h.id, h.path, h.title, h.published, h.category)


def test_seeds_sit_at_their_real_dates_and_category(site: DemoSite) -> None:
    seeds = {s.key: s for s in load_seeds()}
    assert set(site.seed_ids) == set(seeds)
    for key, n in site.seed_ids.items():
        article = site.article(n)
        assert article.seed_key == key
        assert article.published == seeds[key].published
        assert article.date_text == seeds[key].date_text
        assert article.category.slug == seeds[key].category == "tin-tuc-su-kien"
        assert site.article(n - 1).published < article.published < site.article(n + 1).published


def test_seed_003_expected_article(site: DemoSite, server: DemoServer) -> None:
    article = site.article(site.seed_ids[SEED_003])
    expected = article.to_article(server.base_url)
    assert expected.title == "Hội nghị tổng kết công tác xây dựng NTM 2018 , triển khai nhiệm vụ 2019."
    assert expected.published == datetime(2019, 3, 14, 15, 41, 5, tzinfo=VIETNAM_TZ)
    assert expected.published.isoformat() == "2019-03-14T15:41:05+07:00"
    assert expected.published_raw == "Ngày 14/03/2019 15:41:05"
    assert expected.author == "Thùy Dung" and expected.authors == ["Thùy Dung"]
    assert [i.alt for i in expected.images] == ["CIMG2389.JPG", "CIMG2386.JPG",
                                                "CIMG2387.JPG", "CIMG2388.JPG"]
    assert {i.caption for i in expected.images} == {"Một số hình ảnh tại hội nghị."}
    assert [i.position for i in expected.images] == [0, 1, 2, 3]
    assert len(expected.body.split("\n\n")) == 5
    assert expected.url == expected.canonical_url == server.url(article.path)
    assert expected.category == "Tin tức - Sự kiện" and expected.language == "vi"


def test_seed_000_expected_article(site: DemoSite, server: DemoServer) -> None:
    expected = site.article(site.seed_ids[SEED_000]).to_article(server.base_url)
    assert expected.title == "UBND huyện làm việc giao nhiệm vụ xây dựng xã đạt chuẩn nông thôn mới"
    assert expected.published is not None
    assert expected.published.isoformat() == "2022-01-15T16:48:18+07:00"
    assert expected.author == "Văn Hùng"
    assert len(expected.images) == 2
    assert {i.caption for i in expected.images} == {"Các đại biểu dự hội nghị."}
    paragraphs = expected.body.split("\n\n")
    assert len(paragraphs) == 4
    assert paragraphs[1].startswith("Đồng chí Lê Phú Quốc")  # NBSP indentation folded away
    assert "\xa0" not in expected.body and "  " not in expected.body
    assert "Văn Hùng" not in expected.body and "Các đại biểu dự" not in expected.body
    assert all(i.url.startswith(server.base_url + "portal/PublishingImages/2022/01/")
               for i in expected.images)


def test_expected_article_matches_the_page(site: DemoSite, server: DemoServer) -> None:
    """The oracle only holds what the page shows: title, date, paragraphs, images, author."""
    for n in (3, 17, 42, 99, 150, 200):
        article = site.article(n)
        expected = article.to_article(server.base_url)
        text = html.unescape(page(server, article.path))
        assert f'<h1 class="news-title">{expected.title}</h1>' in text
        assert f'<div class="news-date">{expected.published_raw}</div>' in text
        assert expected.published is not None
        assert expected.published.strftime("Ngày %d/%m/%Y %H:%M:%S") == expected.published_raw
        for b in article.blocks:
            if isinstance(b, Paragraph):
                assert f"<p>{b.text}</p>" in text
        content = text.split('<div class="news-content">')[1].split('<div class="news-tools">')[0]
        assert re.findall(r'src="([^"]+)"', content) == \
            [img.url.removeprefix(server.base_url[:-1]) for img in expected.images]
        for img in expected.images:
            if img.caption:
                assert f"<em>{img.caption}</em>" in text
        if expected.author:
            assert expected.author in re.sub(r"\s+", " ", text)
        assert expected.body and "\n\n\n" not in expected.body


# ---------------------------------------------------------------- pages
def test_seed_pages_show_the_seed_verbatim(site: DemoSite, server: DemoServer) -> None:
    for seed in load_seeds():
        article = site.article(site.seed_ids[seed.key])
        text = page(server, article.path)
        assert text.count(seed.title) >= 3  # <title>, h1, print copy
        assert seed.date_text in text
        assert f"Đăng lúc: {seed.date_text.removeprefix('Ngày ')} (GMT+7)" in text
        for block in seed.blocks:
            values = [block.get("text"), block.get("caption")]
            values += [f'alt="{f}"' for f in block.get("files", ())]
            for value in values:
                if value and value.strip():
                    assert text.count(value) == 2, value  # article + hidden print copy
        for marker in ("Ý kiến thăm dò", "Bạn quan tâm đến chuyên mục nào trên trang?",
                       "Biểu quyết", "Xem kết quả", "Truy cập", "Hôm nay:", "Tất cả:",
                       "Dự báo thời tiết Thanh Hóa", "Các tin khác", 'id="print-area"'):
            assert marker in text
        counter = [int(v) for v in re.findall(r'<td class="num">(\d+)</td>', text)]
        assert counter[1] == seed.counter[1]  # yesterday is fixed
        assert all(v > c for v, c in zip(counter, seed.counter, strict=True) if v != seed.counter[1])


def test_counter_changes_on_every_request(site: DemoSite, server: DemoServer) -> None:
    path = site.article(site.seed_ids[SEED_000]).path
    first, second = page(server, path), page(server, path)
    assert first != second
    assert COUNTER_NUM.sub("", first) == COUNTER_NUM.sub("", second)


def test_related_list_holds_five_articles_of_the_category(site: DemoSite, server: DemoServer) -> None:
    article = site.article(126)
    text = page(server, article.path)
    other = text.split('<div class="other-news">')[1].split("</div></div>")[0]
    links = HREF.findall(other)
    assert len(links) == len(set(links)) == 5 and article.path not in links
    for r in site.related(article):
        assert r.category == article.category
        assert f'{r.path}">{r.title}</a> <span class="date">({r.short_date})</span>' in other


def test_same_seed_same_pages_other_seed_other_pages(site: DemoSite, server: DemoServer) -> None:
    twin = DemoSite(size=200, seed=1)
    paths = ["/", site.listing_path("van-hoa-the-thao", 2), site.article(57).path,
             site.article(site.seed_ids[SEED_003]).path]
    with DemoServer(twin) as other:
        for path in paths:
            a = COUNTER_NUM.sub("", page(server, path)).replace(server.base_url, "BASE/")
            b = COUNTER_NUM.sub("", page(other, path)).replace(other.base_url, "BASE/")
            assert a == b, path
    assert DemoSite(size=200, seed=2).article(57).title != site.article(57).title or \
        DemoSite(size=200, seed=2).article(57).blocks != site.article(57).blocks


def test_home_links_every_category_and_latest_articles(site: DemoSite, server: DemoServer) -> None:
    text = page(server, "/")
    for c in site.categories:
        assert f'href="{site.listing_path(c.slug)}"' in text
        for a in site.latest(c.slug, 5):
            assert f'href="{a.path}"' in text


def test_pagination_covers_each_category_once_newest_first(site: DemoSite,
                                                           server: DemoServer) -> None:
    for c in site.categories:
        first = site.listing_path(c.slug)
        seen_pages, queue, order = {first}, [first], {}
        while queue:
            path = queue.pop()
            text = html.unescape(page(server, path))
            current = re.search(r'<span class="current">(\d+)</span>', text)
            assert current is not None, path
            number = int(current.group(1))
            links = HREF.findall(text.split('<div class="category-news">')[1]
                                 .split('<div class="paging">')[0])
            order[number] = list(dict.fromkeys(links))
            pager = HREF.findall(text.split('<div class="paging">')[1].split("</div>")[0])
            for p in pager:
                if p not in seen_pages:
                    seen_pages.add(p)
                    queue.append(p)
        assert sorted(order) == list(range(1, site.page_count(c.slug) + 1))
        crawled = [link for n in sorted(order) for link in order[n]]
        assert all(len(order[n]) == PAGE_SIZE for n in sorted(order)[:-1])
        assert len(crawled) == len(set(crawled))
        expected = [site.article(n) for n in reversed(site.category_ids(c.slug))]
        assert crawled == [a.path for a in expected]
        dates = [a.published for a in expected]
        assert dates == sorted(dates, reverse=True)


def test_pager_links_first_last_and_neighbours() -> None:
    big = DemoSite(size=1000)
    links = [(p.number, p.current) for p in Renderer(big).pager("tin-tuc-su-kien", 10, 20)]
    assert links == [(1, False), ("…", False), (8, False), (9, False), (10, True), (11, False),
                     (12, False), ("…", False), (20, False)]


def test_listing_pages_out_of_range_are_404(site: DemoSite, server: DemoServer) -> None:
    slug = "kinh-te-xa-hoi"
    last = site.page_count(slug)
    assert fetch(server.url(site.listing_path(slug, last)))[0] == 200
    for path in (site.listing_path(slug, last + 1), site.listing_path(slug) + "?Page=0",
                 site.listing_path(slug) + "?Page=x"):
        status, ctype, _ = fetch(server.url(path))
        assert status == 404 and ctype == "text/html; charset=utf-8", path


def test_unknown_paths_are_404(site: DemoSite, server: DemoServer) -> None:
    article = site.article(10)
    bad = [
        "/nothing-here",
        "/portal/Pages/Khong-co.aspx",
        article.path.replace("-a10.aspx", "-a999.aspx"),       # id beyond the site
        article.path.replace("/portal/Pages/", "/portal/Pages/x"),  # wrong date folder
        article.path.replace(f"-a{article.id}", f"-a{article.id + 1}"),  # slug of another id
        "/portal/PublishingImages/2019/03/NOPE.JPG",
        "/portal/PublishingImages/2022/02/" + site.article(site.seed_ids[SEED_000]).images[0][0].file,
    ]
    before = server.statuses[404]
    for path in bad:
        status, ctype, body = fetch(server.url(path))
        assert status == 404, path
        assert ctype == "text/html; charset=utf-8" and b"404" in body
    assert server.statuses[404] - before == len(bad)


def test_images_are_real_jpegs(site: DemoSite, server: DemoServer) -> None:
    articles = [a for a in site.iter_articles() if a.images][:6]
    paths = [img.path for a in articles for img, _ in a.images]
    paths += [img.path for img, _ in site.article(site.seed_ids[SEED_003]).images]
    paths.append("/portal/PublishingImages/banner.jpg")
    before = server.hits["image"]
    for path in paths:
        status, ctype, body = fetch(server.url(path))
        assert status == 200 and ctype == "image/jpeg", path
        with PILImage.open(io.BytesIO(body)) as img:
            assert img.format == "JPEG" and img.size[0] > 0
    assert server.hits["image"] - before == len(paths)
    assert fetch(server.url(paths[0]))[2] == fetch(server.url(paths[0]))[2]
    assert fetch(server.url(paths[0]))[2] != fetch(server.url(paths[1]))[2]


def test_robots_txt_and_the_disallowed_search_page(server: DemoServer) -> None:
    status, ctype, body = fetch(server.url("/robots.txt"))
    assert status == 200 and ctype.startswith("text/plain")
    assert body.decode().splitlines()[:2] == ["User-agent: *", "Disallow: /portal/_layouts/"]
    home = page(server, "/")
    assert 'href="/portal/_layouts/OSSSearchResults.aspx"' in home
    before = server.hits["search"]
    assert fetch(server.url("/portal/_layouts/OSSSearchResults.aspx?k=abc"))[0] == 200
    assert server.hits["search"] == before + 1


def test_head_and_stylesheet(site: DemoSite, server: DemoServer) -> None:
    status, ctype, body = fetch(server.url(site.article(5).path), method="HEAD")
    assert (status, ctype, body) == (200, "text/html; charset=utf-8", b"")
    status, ctype, _ = fetch(server.url("/portal/Style%20Library/thanhhoa.css"))
    assert status == 200 and ctype.startswith("text/css")


# ---------------------------------------------------------------- scale
def test_a_million_article_site_is_lazy() -> None:
    big = DemoSite(size=1_000_000, seed=7)
    slug = "quoc-phong-an-ninh"
    last = big.page_count(slug)
    assert last == 20_000
    with DemoServer(big) as server:
        text = page(server, big.listing_path(slug, last))
        oldest = big.article(big.category_ids(slug)[0])
        assert f'href="{oldest.path}"' in text
        assert page(server, big.article(1_000_000).path)
        seed = big.article(big.seed_ids[SEED_003])
        assert seed.title in page(server, seed.path)
        assert big.article(999_999).published < big.article(1_000_000).published
        assert page(server, "/")
    info = big._cached.cache_info()
    assert info.currsize < 100 and info.maxsize is not None


def test_bad_site_arguments() -> None:
    with pytest.raises(ValueError):
        DemoSite(size=3)
    with pytest.raises(ValueError, match="unknown layout"):
        DemoSite(layout="nope")
    with pytest.raises(ValueError, match="not implemented"):
        DemoServer(DemoSite(), faults=frozenset({"sloww"}))
    with pytest.raises(NotFound):
        DemoSite(size=20).article(21)
    assert get_layout("thanhhoa") is LAYOUTS["thanhhoa"]
    assert LAYOUTS["thanhhoa"].templates.joinpath("article.html").is_file()


def test_articles_resolve_through_absolute_urls(site: DemoSite, server: DemoServer) -> None:
    expected = site.article(77).to_article(server.base_url)
    assert urljoin(server.base_url, site.article(77).path) == expected.url
    assert fetch(expected.url)[0] == 200


# ---------------------------------------------------------------- CLI
def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT)}


def test_cli_serves_until_terminated() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "scraper.demo", "serve", "--port", "0", "--size", "50"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT, env=_env())
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        match = re.fullmatch(r"serving (http://127\.0\.0\.1:\d+/)\n", line)
        assert match, line
        status, _, body = fetch(match.group(1))
        assert status == 200 and "Tin tức - Sự kiện" in body.decode()
    finally:
        proc.terminate()
        out, err = proc.communicate(timeout=10)
    assert proc.returncode == 0, err
    assert out == "" and "Traceback" not in err


@pytest.mark.parametrize("args", [["serve", "--size", "abc"], ["serve", "--layout", "nope"],
                                  ["serve", "--port", "70000"], ["serve", "--size", "1"], []])
def test_cli_bad_arguments(args: list[str]) -> None:
    result = subprocess.run([sys.executable, "-m", "scraper.demo", *args], capture_output=True,
                            text=True, cwd=ROOT, env=_env(), timeout=20)
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1 and "error" in result.stderr
    assert "Traceback" not in result.stderr
