"""The web UI without a browser: sanitiser, chart, and the Datasette app in-process."""

from __future__ import annotations

import asyncio
import csv
import hashlib
import io
import socket
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from factories import make_article

from archive.errors import ArchiveError
from archive.store import Archive
from archive.web.chart import monthly_chart
from archive.web.sanitize import safe_url, sanitize_html
from archive.web.server import make_datasette
from scraper.extract.article import VIETNAM_TZ, Article, Image
from scraper.portals import Portal


# ---------------------------------------------------------------- sanitiser
@pytest.mark.parametrize("hostile", [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    '<a href="javascript:alert(1)">x</a>',
    '<a href=" JaVaScRiPt:alert(1)">x</a>',
    '<iframe src="https://evil.example/"></iframe>',
    '<object data="x.swf"></object><embed src="x.swf">',
    '<svg onload="alert(1)"><circle/></svg>',
    '<p style="background:url(javascript:alert(1))">x</p>',
    '<form action="https://evil.example/"><input name=a></form>',
    '<img src="data:image/svg+xml;base64,PHN2Zz48L3N2Zz4=">',
    '<math><mi xlink:href="javascript:alert(1)">x</mi></math>',
    '<div onclick="alert(1)" onmouseover="alert(2)">x</div>',
    "<style>body{display:none}</style>",
    '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
    '<base href="https://evil.example/">',
])
def test_sanitiser_removes_active_content(hostile: str) -> None:
    clean = sanitize_html(f"<p>Tin an toàn</p>{hostile}", "https://portal.example/a/b.htm")
    lowered = clean.lower()
    for bad in ("<script", "onerror", "onload", "onclick", "onmouseover", "javascript:",
                "<iframe", "<object", "<embed", "<svg", "style", "<form", "<input", "data:",
                "<meta", "<base", "alert("):
        assert bad not in lowered, (hostile, clean)
    assert "<p>Tin an toàn</p>" in clean


def test_sanitiser_keeps_article_markup_and_resolves_urls() -> None:
    html = ('<p>Đoạn <strong>một</strong> <em>hai</em></p><figure><img src="/img/a.jpg" '
            'alt="Ảnh" width="600"><figcaption>Chú thích</figcaption></figure>'
            '<a href="../tin/2.htm" title="Tin">tin khác</a><table><tr><td colspan="2">ô</td>'
            '</tr></table>')
    clean = sanitize_html(html, "https://portal.example/tin/1.htm")
    assert '<img src="https://portal.example/img/a.jpg" alt="Ảnh" width="600">' in clean
    assert '<a href="https://portal.example/tin/2.htm" title="Tin" rel="noopener noreferrer ' \
           'nofollow">tin khác</a>' in clean
    assert "<figcaption>Chú thích</figcaption>" in clean and '<td colspan="2">ô</td>' in clean
    assert "<strong>một</strong>" in clean


def test_safe_url() -> None:
    assert safe_url("https://a.example/x.jpg") == "https://a.example/x.jpg"
    assert safe_url("javascript:alert(1)") is None
    assert safe_url("/relative.jpg") is None
    assert safe_url(None) is None


# -------------------------------------------------------------------- chart
def test_chart_one_line_per_portal_and_escaped() -> None:
    svg = monthly_chart([("a<b>", "2021-01", 3), ("a<b>", "2021-03", 5), ("other", "2022-12", 1),
                         ("bad", "not-a-month", 9)])
    assert svg.startswith("<svg") and svg.endswith("</svg>")
    assert svg.count("<polyline") == 2
    assert "a&lt;b&gt;" in svg and "a<b>" not in svg
    # every month from 2021-01 to 2022-12 is a point (zeros included)
    points = svg.split('points="')[1].split('"')[0].split()
    assert len(points) == 24
    assert "No dated articles" in monthly_chart([])


# ---------------------------------------------------------------- datasette
def _articles() -> list[Article]:
    out = []
    for n, (title, author, cat) in enumerate([
        ("Xã Đồng Tiến đạt chuẩn nông thôn mới", "Văn Hùng", "Nông thôn mới"),
        ("Hội nghị tổng kết công tác khuyến nông", "Thùy Dung", "Tin tức"),
        ("Đồng tiền và tín dụng chính sách", "Văn Hùng", "Kinh tế"),
    ]):
        out.append(make_article(
            f"https://trieuson.example/tin/{n}.htm", title,
            body=f"Nội dung bài {n} về {title.lower()}.",
            body_html=f"<p>Nội dung bài {n}</p><script>bad()</script>",
            author=author, category=cat,
            published=datetime(2021 + n, 3, 1, 8, 0, tzinfo=VIETNAM_TZ),
            images=[Image(f"https://trieuson.example/img/{n}.jpg", "Ảnh <b>")]))
    return out


@pytest.fixture(scope="module")
def ds(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    path = tmp_path_factory.mktemp("web") / "site.db"
    with Archive(path) as a:
        a.ensure_portal(Portal("trieuson", "Triệu Sơn", "Thanh Hóa", "https://trieuson.example/"))
        run_id = a.start_run("trieuson")
        a.save_articles(_articles(), portal_id="trieuson", run_id=run_id)
        a.finish_run(run_id)
    yield make_datasette(path)


def get(ds: Any, path: str) -> Any:
    return asyncio.run(ds.client.get(path))


def test_search_page_facets_and_links(ds: Any) -> None:
    r = get(ds, "/?q=dong+tien")
    assert r.status_code == 200
    html = r.text
    assert html.count('<li class="pa-hit') == 2
    assert "<mark>Đồng</mark> <mark>Tiến</mark>" in html
    assert 'href="/export.csv?q=dong+tien"' in html
    assert '<ul class="facet-author">' in html and "Văn Hùng</a>" in html
    assert "script-src 'self'" in r.headers["content-security-policy"]
    # exact diacritics first
    exact = get(ds, "/?q=%C4%91%E1%BB%93ng+ti%E1%BB%81n").text  # "đồng tiền"
    assert exact.index("tín dụng") < exact.index("Xã <mark>Đồng</mark>")
    # facet link: a year
    assert 'href="/?q=dong+tien&amp;since=2021&amp;until=2021"' in html


def test_search_page_bad_input_is_one_line(ds: Any) -> None:
    for query in ("%22", "()", "x" * 2000):
        r = get(ds, f"/?q={query}")
        assert r.status_code == 400
        assert r.text.count('class="message-error pa-error"') == 1
    r = get(ds, "/?q=nong&since=2022-13-01")
    assert r.status_code == 400 and "bad --since date" in r.text


def test_search_json(ds: Any) -> None:
    data = get(ds, "/search.json?q=nong+thon&author=van+hung").json()
    assert data["ok"] and data["total"] == 1
    assert data["results"][0]["title"] == "Xã Đồng Tiến đạt chuẩn nông thôn mới"
    assert get(ds, "/search.json").status_code == 400
    bad = get(ds, "/search.json?q=nong&portal=nowhere")
    assert bad.status_code == 400 and "no portal 'nowhere'" in bad.json()["error"]


def test_article_page_sanitised_with_provenance(ds: Any) -> None:
    r = get(ds, "/article/1")
    assert r.status_code == 200
    html = r.text
    assert "<p>Nội dung bài 0</p>" in html and "bad()" not in html
    assert "Ảnh &lt;b&gt;" in html  # captions are text, escaped
    # never downloaded: shown as missing, the portal's URL is a link, never an image source
    assert 'src="https://trieuson.example/img/0.jpg"' not in html
    assert "Ảnh chưa có trong kho lưu trữ (chưa tải về)" in html
    assert "lần thu thập 1" in html and "Lưu lần đầu" in html
    assert "01/03/2021 08:00" in html and "Triệu Sơn (Thanh Hóa)" in html
    assert get(ds, "/article/999").status_code == 404


def test_export_stream_and_errors(ds: Any) -> None:
    r = get(ds, "/export.csv?q=dong+tien")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert r.content.startswith(b"\xef\xbb\xbf")  # the BOM Excel needs
    rows = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert len(rows) == 2 and rows[0]["portal_name"] == "Triệu Sơn"
    lines = get(ds, "/export.jsonl?category=kinh+te").text.splitlines()
    assert len(lines) == 1 and "tín dụng" in lines[0]
    bad = get(ds, "/export.csv?until=soon")
    assert bad.status_code == 400 and bad.text.startswith("Lỗi: bad --until date")


def test_downloads_open_typed(ds: Any) -> None:
    """The downloads read by Arrow (what pandas' readers build on) with their types."""
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.json as pajson
    import pyarrow.parquet as pq

    table = pacsv.read_csv(io.BytesIO(get(ds, "/export.csv").content))  # the BOM is skipped
    assert table.column_names[:4] == ["id", "portal_id", "portal_name", "portal_province"]
    assert table.schema.field("id").type == pa.int64() and table.num_rows == 3
    jsonl = pajson.read_json(io.BytesIO(get(ds, "/export.jsonl").content))
    assert set(jsonl.column("portal_province").to_pylist()) == {"Thanh Hóa"}
    r = get(ds, "/export.parquet?author=van+hung")
    assert r.headers["content-type"] == "application/vnd.apache.parquet"
    parquet = pq.read_table(io.BytesIO(r.content))
    assert parquet.num_rows == 2 and "images" not in parquet.column_names
    assert parquet.schema.field("published").type == pa.timestamp("us", tz="Asia/Ho_Chi_Minh")
    images = pacsv.read_csv(io.BytesIO(get(ds, "/export.images.csv").content))
    assert {"sha256", "path", "size", "mime", "status"} <= set(images.column_names)
    assert set(images.column("status").to_pylist()) == {"pending"} and images.num_rows == 3
    images_pq = pq.read_table(io.BytesIO(get(ds, "/export.images.parquet").content))
    assert images_pq.schema.field("article_id").type == pa.int64() and images_pq.num_rows == 3


def test_datasette_is_read_only(ds: Any) -> None:
    db = ds.get_database()

    def write(conn: sqlite3.Connection) -> None:
        conn.execute("DELETE FROM articles")

    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        asyncio.run(db.execute_fn(write))
    # Datasette's own pages still work
    assert get(ds, "/site/articles.json").status_code == 200


def test_missing_archive_is_an_archive_error(tmp_path: Path) -> None:
    with pytest.raises(ArchiveError, match="no archive at"):
        make_datasette(tmp_path / "none.db")


# ------------------------------------------------------------ shared machine
def _get_host(ds: Any, path: str, host: str) -> Any:
    return asyncio.run(ds.client.get(path, headers={"host": host}))


def test_host_header_must_name_the_server(tmp_path: Path) -> None:
    path = tmp_path / "a.db"
    with Archive(path) as a:
        a.ensure_portal(Portal("trieuson", "Triệu Sơn", "Thanh Hóa", "https://trieuson.example/"))
        a.save_articles(_articles()[:1], portal_id="trieuson")
    served = make_datasette(path, host="127.0.0.1", port=8123)
    assert _get_host(served, "/", "127.0.0.1:8123").status_code == 200
    assert _get_host(served, "/", "localhost:8123").status_code == 200
    for bad in ("evil.example:8123", "127.0.0.1:9999", "localhost", "evil.example",
                "127.0.0.1.evil.example:8123"):
        r = _get_host(served, "/", bad)
        assert r.status_code == 421, bad
        assert "content-security-policy" in r.headers
    # Datasette's own pages too
    assert _get_host(served, "/a/articles", "evil.example:8123").status_code == 421


def test_csp_everywhere_sql_off_and_no_absolute_path(ds: Any) -> None:
    db = ds.get_database()
    for page in ("/", "/article/1", "/site", "/site/articles", "/site/articles/1", "/-/versions"):
        r = get(ds, page)
        assert r.status_code == 200, page
        csp = r.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "img-src 'self' data:;" in csp, page
        assert db.path not in r.text and str(Path(db.path).parent) not in r.text, page
    assert get(ds, "/-/databases.json").status_code == 404
    assert get(ds, "/site?sql=select+1").status_code == 403
    # an error names the archive, never its file
    empty = Path(db.path).with_name("empty.db")
    Archive(empty).close()
    r = get(make_datasette(empty), "/?q=x")
    assert r.status_code == 400 and "holds no articles" in r.text and str(empty) not in r.text


def test_allow_sql_flag(tmp_path: Path) -> None:
    path = tmp_path / "sql.db"
    with Archive(path) as a:
        a.ensure_portal(Portal("trieuson", "Triệu Sơn", "Thanh Hóa", "https://trieuson.example/"))
        a.save_articles(_articles()[:1], portal_id="trieuson")
    r = get(make_datasette(path, allow_sql=True),
            "/sql.json?sql=select+pa_fold(title)+as+t+from+articles&_shape=array")
    assert r.json()[0]["t"] == "xa dong tien dat chuan nong thon moi"


def test_bind_checks(tmp_path: Path) -> None:
    from archive.web.server import ServeError, check_bind

    with pytest.raises(ServeError, match="--public"):
        check_bind("0.0.0.0", 0)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(ServeError, match=f"port {port} on 127.0.0.1 is already in use"):
            check_bind("127.0.0.1", port)


def test_serve_on_busy_port_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "busy.db"
    Archive(path).close()
    exe = Path(sys.executable).parent / "portal-archive"
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        done = subprocess.run([str(exe), "serve", "--db", str(path), "--port", str(port)],
                              capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    assert done.stderr.strip() == (f"Error: port {port} on 127.0.0.1 is already in use: stop "
                                   f"the other server or choose another --port")
    public = subprocess.run([str(exe), "serve", "--db", str(path), "--host", "0.0.0.0"],
                            capture_output=True, text=True, timeout=60)
    assert public.returncode != 0 and public.stderr.count("\n") == 1
    assert "--public" in public.stderr


# ------------------------------------------------------- served from the archive
def test_images_served_from_the_archive_once_each(tmp_path: Path) -> None:
    from archive.store import ImageDownload

    path = tmp_path / "img.db"
    jpeg = b"\xff\xd8\xff\xe0 a stored image"
    sha = hashlib.sha256(jpeg).hexdigest()
    rel = f"images/{sha[:2]}/{sha}.jpg"
    (tmp_path / rel).parent.mkdir(parents=True)
    (tmp_path / rel).write_bytes(jpeg)
    url = "https://trieuson.example/img/1.jpg"
    gone_url = "https://trieuson.example/img/2.jpg"
    body_html = (f'<p>Đoạn một.</p><figure><img src="{url}"><figcaption>Quang cảnh hội nghị.'
                 f'</figcaption></figure><table><tr><td><img src="{gone_url}"></td></tr>'
                 f'<tr><td><span>Toàn cảnh buổi lễ.</span></td></tr></table><p>Đoạn hai.</p>')
    art = replace(_articles()[0], body_html=body_html, images=[
        Image(url, "Quang cảnh hội nghị.", position=0),
        Image(gone_url, "Toàn cảnh buổi lễ.", position=1)])
    with Archive(path) as a:
        a.ensure_portal(Portal("trieuson", "Triệu Sơn", "Thanh Hóa", "https://trieuson.example/"))
        a.save_articles([art], portal_id="trieuson")
        a.record_image(ImageDownload(url, ok=True, sha256=sha, size=len(jpeg), mime="image/jpeg",
                                     path=rel, http_status=200))
        a.record_image(ImageDownload(gone_url, ok=False, http_status=404, error="HTTP 404"))
    served = make_datasette(path)
    html = get(served, "/article/1").text
    assert html.count(f'src="/file/image/{sha}"') == 1
    assert "trieuson.example/img/1.jpg\"" not in html.replace('href="', "")  # not an <img> src
    assert html.count("Quang cảnh hội nghị.") == 1 and html.count("Toàn cảnh buổi lễ.") == 1
    assert "tải về không thành công" in html
    assert "<p>Đoạn một.</p>" in html and "<p>Đoạn hai.</p>" in html
    r = get(served, f"/file/image/{sha}")
    assert r.status_code == 200 and r.content == jpeg
    assert r.headers["content-type"] == "image/jpeg"
    # the file gone from disk: missing, both on the page and at its address
    (tmp_path / rel).unlink()
    assert get(served, f"/file/image/{sha}").status_code == 404
    html = get(served, "/article/1").text
    assert "/file/image/" not in html and "(thiếu tệp)" in html
    assert get(served, "/file/image/" + "0" * 64).status_code == 404


def test_image_paths_never_leave_the_archive_folder(tmp_path: Path) -> None:
    from archive.store import ImageDownload

    outside = tmp_path / "secret.jpg"
    outside.write_bytes(b"secret")
    folder = tmp_path / "archive"
    with Archive(folder / "a.db") as a:
        a.ensure_portal(Portal("trieuson", "Triệu Sơn", "Thanh Hóa", "https://trieuson.example/"))
        a.save_articles(_articles()[:1], portal_id="trieuson")
        for n, bad in enumerate(("../secret.jpg", str(outside))):
            a.record_image(ImageDownload(f"https://x.example/{n}.jpg", ok=True,
                                         sha256=f"{n}" * 64, mime="image/jpeg", path=bad))
    served = make_datasette(folder / "a.db")
    for n in range(2):
        assert get(served, f"/file/image/{n}" + f"{n}" * 63).status_code == 404


# ------------------------------------------------------------- Vietnamese first
def test_vietnamese_by_default_english_on_request(ds: Any) -> None:
    vi = get(ds, "/?q=dong+tien")
    assert '<html lang="vi">' in vi.text
    assert "Tìm kiếm trong kho lưu trữ" in vi.text and "Tải về:" in vi.text
    assert "<h3>Tác giả</h3>" in vi.text and "7 ngày qua" in vi.text
    assert "Triệu Sơn (Thanh Hóa)</a>" in vi.text  # the portal facet by name and province
    assert "01/03/2021 08:00" in vi.text           # dates as written in Vietnam
    assert 'id="lang-switch" href="/?q=dong+tien&amp;lang=en"' in vi.text
    en = get(ds, "/?q=dong+tien&lang=en")
    assert '<html lang="en">' in en.text and "Search the archive" in en.text
    assert "<h3>Author</h3>" in en.text and "Last 7 days" in en.text
    assert "pa_lang=en" in en.headers["set-cookie"]
    # the cookie remembers the choice, on Datasette's own pages too
    again = asyncio.run(ds.client.get("/article/1", cookies={"pa_lang": "en"}))
    assert "First archived" in again.text and '<html lang="en">' in again.text
    assert '<html lang="vi">' in get(ds, "/site/articles").text
    # bad input: the error is in the page's language
    assert "Lỗi:" in get(ds, "/?q=nong&since=2022-13-01").text


def test_catalogue_translates_every_message() -> None:
    from babel.messages.extract import extract_from_dir

    from archive.web.i18n import translations

    root = Path(__file__).resolve().parents[2] / "archive" / "web"
    method_map = [("templates/**.html", "jinja2"), ("**.py", "python")]
    options = {"templates/**.html": {"extensions": "jinja2.ext.i18n"}}
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2)}
    found = {m[2] if isinstance(m[2], str) else m[2][0]
             for m in extract_from_dir(str(root), method_map, options, keywords=keywords)}
    assert len(found) > 60
    vi = translations("vi")
    untranslated = sorted(m for m in found if vi.gettext(m) == m)
    assert untranslated == []


def test_version_diff_is_readable_and_escaped(tmp_path: Path) -> None:
    path = tmp_path / "v.db"
    first = _articles()[0]
    changed = replace(first, title="Xã Đồng Tiến về đích nông thôn mới",
                      body=first.body + "\n\nThêm <b>đoạn</b> mới.", body_html="")
    with Archive(path) as a:
        a.ensure_portal(Portal("trieuson", "Triệu Sơn", "Thanh Hóa", "https://trieuson.example/"))
        a.save_articles([first], portal_id="trieuson")
        a.save_articles([changed], portal_id="trieuson")
    html = get(make_datasette(path), "/article/1").text
    assert "Các phiên bản" in html
    assert "<del>đạt chuẩn</del><ins>về đích</ins>" in html
    assert "<ins>Thêm &lt;b&gt;đoạn&lt;/b&gt; mới.</ins>" in html


def test_imported_and_crawled_article_is_one_with_both_sources(tmp_path: Path) -> None:
    """A text dump imported with the page's URL and the crawl of that page: one article."""
    path = tmp_path / "both.db"
    art = _articles()[0]
    with Archive(path) as a:
        a.ensure_portal(Portal("trieuson", "Triệu Sơn", "Thanh Hóa", "https://trieuson.example/"))
        imported = a.start_run("trieuson", {"started_by": "import-text", "files": ["x.txt"]})
        a.save_articles([art], portal_id="trieuson", run_id=imported)
        a.finish_run(imported)
        crawled = a.start_run("trieuson")
        a.save_articles([art], portal_id="trieuson", run_id=crawled)
        a.finish_run(crawled)
        assert a.count_articles() == 1
    served = make_datasette(path)
    data = get(served, "/search.json?q=dong+tien").json()
    assert data["total"] == 1
    sources = get(served, "/article/1").text.split('id="sources"')[1].split("</dd>")[0]
    assert "nhập từ bản văn bản" in sources and "thu thập từ cổng" in sources
    assert sources.count("<li>") == 2
