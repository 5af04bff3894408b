"""archive.export: CSV and JSON Lines round trips, filters, safety."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from factories import make_archive, make_article

import archive.export as archive_export
from archive.errors import ArchiveError, FilterError, SearchError
from archive.export import FORMATS, export, export_columns
from archive.store import Archive
from scraper.extract.article import VIETNAM_TZ, Article, Image
from scraper.portals import Portal


def _articles() -> list[Article]:
    out = []
    specs = [
        ("UBND huyện làm việc giao nhiệm vụ", "Văn Hùng", datetime(2022, 1, 15, 16, 48, 18)),
        ("Xã Đồng Tiến đạt chuẩn nông thôn mới, \"về đích\" sớm", "Thùy Dung",
         datetime(2023, 5, 2, 7, 0)),
        ("Hội nghị tổng kết, triển khai nhiệm vụ năm 2024", None, None),
    ]
    for n, (title, author, when) in enumerate(specs):
        out.append(make_article(
            f"https://trieuson.thanhhoa.gov.vn/tin-tuc/{n}.htm", title,
            body=f"Đoạn một của bài {n}.\n\nĐoạn hai, có dấu phẩy; và \"ngoặc kép\".",
            body_html=f"<p>Đoạn một của bài {n}.</p>",
            published=when.replace(tzinfo=VIETNAM_TZ) if when else None,
            published_raw=when.strftime("Ngày %d/%m/%Y %H:%M:%S") if when else None,
            author=author,
            images=[Image(f"https://trieuson.thanhhoa.gov.vn/img/{n}-{k}.jpg",
                          "Các đại biểu dự hội nghị.", f"{n}-{k}.jpg", k) for k in range(n)],
            category="Tin tức", extractor="thanhhoa", extractor_version="1",
            warnings=[] if author else ["no-author"],
        ))
    return out


@pytest.fixture
def archive(tmp_path: Path) -> Iterator[Archive]:
    a = make_archive(tmp_path / "archive.db", {
        Portal("trieuson", "Triệu Sơn", "Thanh Hóa", "https://trieuson.thanhhoa.gov.vn/"):
            _articles()})
    yield a
    a.close()


def test_jsonl_round_trip(archive: Archive, tmp_path: Path) -> None:
    out = tmp_path / "out" / "articles.jsonl"
    assert export(archive, "jsonl", out, include_html=True) == 3
    lines = out.read_text(encoding="utf-8").splitlines()
    records = [json.loads(line) for line in lines]
    assert "Đồng Tiến" in lines[1]  # UTF-8, not \u escapes
    assert [Article.from_dict(r) for r in records] == _articles()  # dated oldest first, undated last
    assert records[0]["published"] == "2022-01-15T16:48:18+07:00"
    assert records[0]["published_utc"] == "2022-01-15T09:48:18Z"
    assert records[2]["published"] is None
    assert list(records[0]) == list(export_columns(include_html=True))


def test_csv_round_trip(archive: Archive, tmp_path: Path) -> None:
    out = tmp_path / "articles.csv"
    assert export(archive, "csv", out) == 3
    with out.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == list(export_columns())
    assert "body_html" not in rows[0]
    originals = _articles()
    for row, art in zip(rows, originals, strict=True):
        assert row["title"] == art.title
        assert row["body"] == art.body
        assert row["author"] == (art.author or "")
        assert json.loads(row["authors"]) == art.authors
        assert json.loads(row["warnings"]) == art.warnings
        images = [Image(**i) for i in json.loads(row["images"])]
        assert images == art.images
        assert row["published"] == (art.published.isoformat() if art.published else "")
        assert row["content_hash"] == art.content_hash()
        assert datetime.fromisoformat(row["first_seen"].replace("Z", "+00:00")).tzinfo


def test_filters_and_query(archive: Archive) -> None:
    buf = io.StringIO()
    assert export(archive, "jsonl", buf, since="2023") == 1
    assert json.loads(buf.getvalue())["title"].startswith("Xã Đồng Tiến")
    buf = io.StringIO()
    assert export(archive, "jsonl", buf, query="nhiem vu") == 2
    buf = io.StringIO()
    assert export(archive, "csv", buf, query="nhiem vu", author="van hung") == 1
    buf = io.StringIO()
    assert export(archive, "csv", buf, query="xyzzy") == 0
    assert buf.getvalue().splitlines() == [",".join(export_columns())]


def test_errors_leave_no_file(archive: Archive, tmp_path: Path) -> None:
    out = tmp_path / "x.csv"
    with pytest.raises(SearchError):
        export(archive, "csv", out, query='"')
    with pytest.raises(FilterError):
        export(archive, "csv", out, since="2022-02-30")
    with pytest.raises(FilterError, match="no portal 'nowhere'"):
        export(archive, "csv", out, portal="nowhere")
    with pytest.raises(FilterError, match="unknown export format 'xml'"):
        export(archive, "xml", out)
    assert list(tmp_path.glob("*.csv")) == [] and list(tmp_path.glob(".*partial")) == []


def test_failure_midway_keeps_the_previous_file(archive: Archive, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "x.jsonl"
    out.write_text("previous\n", encoding="utf-8")

    def broken_rows(*args: object, **kw: object) -> Iterator[dict[str, object]]:
        yield from []
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(archive, "iter_articles", broken_rows)
    with pytest.raises(RuntimeError):
        export(archive, "jsonl", out)
    assert out.read_text(encoding="utf-8") == "previous\n"
    assert list(tmp_path.glob(".*partial")) == []


def test_empty_archive_is_a_clear_error(tmp_path: Path) -> None:
    with Archive(tmp_path / "empty.db") as empty, pytest.raises(ArchiveError, match="no articles"):
        export(empty, "csv", tmp_path / "out.csv")


def test_formats_registry() -> None:
    assert {"csv", "jsonl", "parquet"} <= set(FORMATS)
    assert FORMATS["parquet"].binary
    assert all(not f.binary for f in (FORMATS["csv"], FORMATS["jsonl"]))


# ------------------------------------------------------------ parquet, images, datapackage
def test_parquet_typed_columns_and_images_file(archive: Archive, tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    out = tmp_path / "x.parquet"
    assert export(archive, "parquet", out) == 3
    table = pq.read_table(out)
    schema = table.schema
    assert schema.field("id").type == pa.int64()
    assert schema.field("first_run_id").type == pa.int64()
    assert schema.field("published").type == pa.timestamp("us", tz="Asia/Ho_Chi_Minh")
    assert schema.field("published_utc").type == pa.timestamp("us", tz="UTC")
    assert schema.field("first_seen").type == pa.timestamp("us", tz="UTC")
    assert schema.field("authors").type == pa.list_(pa.string())
    assert table.column_names == list(export_columns(fmt="parquet"))
    assert "images" not in table.column_names  # the images file holds them
    rows = table.to_pylist()
    originals = _articles()
    assert [r["title"] for r in rows] == [a.title for a in originals]
    first = rows[0]
    # the same instant, shown in Vietnam time and in UTC
    assert first["published"] == originals[0].published
    assert first["published"].utcoffset().total_seconds() == 7 * 3600
    assert first["published_utc"] == originals[0].published
    assert rows[2]["published"] is None
    images = pq.read_table(tmp_path / "x.images.parquet").to_pylist()
    assert {k: images[0][k] for k in ("position", "url", "caption", "alt")} == {
        "position": 0, "url": originals[1].images[0].url,
        "caption": "Các đại biểu dự hội nghị.", "alt": "1-0.jpg"}
    assert len(images) == sum(len(a.images) for a in originals) == 3
    by_url = {a.canonical_url: r["id"] for a, r in zip(originals, rows, strict=True)}
    assert [i["article_id"] for i in images] == [by_url[originals[1].canonical_url],
                                                 *[by_url[originals[2].canonical_url]] * 2]
    assert [i["position"] for i in images] == [0, 0, 1]


def test_parquet_row_groups_stream(archive: Archive, tmp_path: Path,
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib

    import pyarrow.parquet as pq

    monkeypatch.setattr(importlib.import_module("archive.export"), "PARQUET_ROW_GROUP", 2)
    out = tmp_path / "x.parquet"
    export(archive, "parquet", out)
    meta = pq.ParquetFile(out).metadata
    assert meta.num_rows == 3 and meta.num_row_groups == 2


def test_datapackage_describes_the_export(archive: Archive, tmp_path: Path) -> None:
    out = tmp_path / "exports" / "trieuson.csv"
    assert export(archive, "csv", out, since="2022") == 2
    package = json.loads((tmp_path / "exports" / "trieuson.datapackage.json").read_text("utf-8"))
    assert package["profile"] == "tabular-data-package"
    articles, images, documents = package["resources"]
    assert articles["name"] == "articles" and articles["path"] == "trieuson.csv"
    assert images["path"] == "trieuson.images.csv"
    assert documents["path"] == "trieuson.documents.csv" and documents["rows"] == 0
    assert articles["rows"] == 2 and images["rows"] == 1
    assert articles["format"] == "csv" and articles["encoding"] == "utf-8"
    fields = {f["name"]: f["type"] for f in articles["schema"]["fields"]}
    assert list(fields) == list(export_columns())
    assert fields["id"] == "integer" and fields["published"] == "datetime"
    assert fields["authors"] == "array" and fields["title"] == "string"
    assert articles["schema"]["primaryKey"] == ["id"]
    assert images["schema"]["foreignKeys"][0]["reference"] == {"resource": "articles",
                                                               "fields": ["id"]}
    assert '"since": "2022"' in package["description"]
    # the CSV files the descriptor points at exist and have its columns
    with (tmp_path / "exports" / images["path"]).open(encoding="utf-8") as f:
        assert next(csv.reader(f)) == [fd["name"] for fd in images["schema"]["fields"]]


def test_folder_export(archive: Archive, tmp_path: Path) -> None:
    folder = tmp_path / "dump"
    folder.mkdir()
    assert export(archive, "jsonl", folder) == 3
    assert sorted(p.name for p in folder.iterdir()) == [
        "articles.jsonl", "datapackage.json", "documents.jsonl", "images.jsonl"]
    package = json.loads((folder / "datapackage.json").read_text("utf-8"))
    assert [r["path"] for r in package["resources"]] == ["articles.jsonl", "images.jsonl",
                                                         "documents.jsonl"]


def test_excel_csv_has_the_bom(archive: Archive, tmp_path: Path) -> None:
    plain, excel = tmp_path / "plain.csv", tmp_path / "excel.csv"
    export(archive, "csv", plain)
    export(archive, "csv", excel, excel=True)
    assert not plain.read_bytes().startswith(b"\xef\xbb\xbf")
    data = excel.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf") and data[3:] == plain.read_bytes()
    assert (tmp_path / "excel.images.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    package = json.loads((tmp_path / "excel.datapackage.json").read_text("utf-8"))
    assert package["resources"][0]["encoding"] == "utf-8-sig"
    with pytest.raises(FilterError, match="CSV only"):
        export(archive, "jsonl", tmp_path / "x.jsonl", excel=True)


def test_parquet_to_a_binary_stream(archive: Archive) -> None:
    import pyarrow.parquet as pq

    buf = io.BytesIO()
    assert export(archive, "parquet", buf, query="nhiem vu") == 2
    buf.seek(0)
    assert pq.read_table(buf).num_rows == 2


def test_failed_images_file_leaves_nothing(archive: Archive, tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    def broken_images(*args: object, **kw: object) -> Iterator[dict[str, object]]:
        yield from []
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(archive_export, "iter_image_files", broken_images)
    with pytest.raises(RuntimeError):
        export(archive, "parquet", tmp_path / "out" / "x.parquet")
    assert list((tmp_path / "out").iterdir()) == []


def _store_first_image(archive: Archive) -> tuple[str, str, bytes]:
    """Record the first image of article 2 as downloaded, its file in the archive's folder."""
    import hashlib

    from archive.store import ImageDownload

    data = b"\xff\xd8\xff\xe0 jpeg bytes"
    sha = hashlib.sha256(data).hexdigest()
    rel = f"images/{sha[:2]}/{sha}.jpg"
    (archive.folder / rel).parent.mkdir(parents=True, exist_ok=True)
    (archive.folder / rel).write_bytes(data)
    url = "https://trieuson.thanhhoa.gov.vn/img/2-0.jpg"
    archive.record_image(ImageDownload(url, ok=True, sha256=sha, size=len(data), width=4,
                                       height=3, mime="image/jpeg", path=rel, http_status=200))
    archive.record_image(ImageDownload("https://trieuson.thanhhoa.gov.vn/img/1-0.jpg", ok=False,
                                       http_status=404, error="HTTP 404"))
    return sha, rel, data


def test_exports_link_portal_and_image_files(archive: Archive, tmp_path: Path) -> None:
    sha, rel, data = _store_first_image(archive)
    export(archive, "csv", tmp_path / "x.csv")
    rows = list(csv.DictReader((tmp_path / "x.csv").open(encoding="utf-8")))
    assert {(r["portal_id"], r["portal_name"], r["portal_province"]) for r in rows} == {
        ("trieuson", "Triệu Sơn", "Thanh Hóa")}
    images = list(csv.DictReader((tmp_path / "x.images.csv").open(encoding="utf-8")))
    by_url = {r["url"].rsplit("/", 1)[1]: r for r in images}
    assert by_url["2-0.jpg"]["sha256"] == sha and by_url["2-0.jpg"]["path"] == rel
    assert by_url["2-0.jpg"]["size"] == str(len(data)) and by_url["2-0.jpg"]["mime"] == "image/jpeg"
    assert by_url["2-0.jpg"]["status"] == "ok"
    assert (archive.folder / by_url["2-0.jpg"]["path"]).read_bytes() == data
    assert by_url["1-0.jpg"]["status"] == "failed" and by_url["1-0.jpg"]["sha256"] == ""
    assert by_url["2-1.jpg"]["status"] == "pending"
    package = json.loads((tmp_path / "x.datapackage.json").read_text(encoding="utf-8"))
    fields = [f["name"] for f in package["resources"][1]["schema"]["fields"]]
    assert {"sha256", "path", "size", "mime", "status"} <= set(fields)
    # the file gone from the folder: the export says so
    (archive.folder / rel).unlink()
    export(archive, "jsonl", tmp_path / "y.jsonl")
    lines = (tmp_path / "y.images.jsonl").read_text(encoding="utf-8").splitlines()
    assert json.loads(lines[1])["status"] == "file_missing"


def test_exports_open_typed_in_arrow(archive: Archive, tmp_path: Path) -> None:
    """What pandas' read_parquet/read_csv build on (Arrow), with the types an analyst gets.

    pandas itself is not a test dependency: sqlite-utils imports pandas whenever it is
    installed (seconds per process, and the crawl process must not load it).
    """
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    _store_first_image(archive)
    export(archive, "parquet", tmp_path / "p.parquet")
    articles = pq.read_table(tmp_path / "p.parquet")
    assert articles.schema.field("published").type == pa.timestamp("us", tz="Asia/Ho_Chi_Minh")
    assert articles.schema.field("id").type == pa.int64()
    assert set(articles.column("portal_name").to_pylist()) == {"Triệu Sơn"}
    images = pq.read_table(tmp_path / "p.images.parquet")
    assert images.schema.field("size").type == pa.int64()
    assert images.schema.field("article_id").type == pa.int64()
    assert [s for s in images.column("size").to_pylist() if s] == [15]
    export(archive, "csv", tmp_path / "e.csv", excel=True)
    assert (tmp_path / "e.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    frame = pacsv.read_csv(tmp_path / "e.csv")
    assert frame.column_names[0] == "id" and frame.schema.field("id").type == pa.int64()
    assert frame.column("portal_province").to_pylist()[0] == "Thanh Hóa"
