"""The demo portal's content: a deterministic, lazily generated news site.

:class:`DemoSite` is a pure function of ``(size, seed, layout)``: article
``n`` (ids ``1..size``) is computed on demand from its own RNG
(``random.Random(f"{seed}:{n}")``), so nothing is held per article and a
site of a million articles costs no more memory than one of two hundred.

Arithmetic instead of indexes:

* time: ids are spread over :data:`FIRST_DAY` .. :data:`END` in increasing
  order. Each id owns a time slot and is published somewhere inside it, so
  the order by id *is* the order by date (jitter never crosses a slot);
* category: ``categories[(n - 1) % len(categories)]``, so a category's ids
  form a ``range`` and any listing page is computed without scanning;
* the two real seed articles (``data/seeds.json``) sit at the ids of their
  category nearest to where their real dates fall, and the time slots are
  bent (piecewise linear) so that their slots start exactly at their real
  publication times.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any, ClassVar, Literal
from urllib.parse import urljoin

from scraper.demo.documents import EVERY, DemoDocument, documents_of
from scraper.demo.layouts import Layout, get_layout
from scraper.demo.text import fold
from scraper.demo.vocab import Writer
from scraper.extract import VIETNAM_TZ, Article, Image

#: Publication times of the demo site span [FIRST_DAY, END).
FIRST_DAY = datetime(2016, 1, 1, tzinfo=VIETNAM_TZ)
END = datetime(2025, 7, 1, tzinfo=VIETNAM_TZ)
#: Articles per listing page.
PAGE_SIZE = 10
MIN_SIZE = 10
MAX_SIZE = 10_000_000

SEEDS_FILE = Path(__file__).resolve().parent / "data" / "seeds.json"
#: Offset added to ``id * 10 + position`` in phone-upload style image names.
_PHONE_OFFSET = 3_100_000_000_000


class NotFound(LookupError):
    """An id, category or page the site does not have."""


@dataclass(frozen=True)
class Category:
    """A news category (chuyên mục): URL-independent slug, display name, index."""

    slug: str
    name: str
    index: int


#: Categories of the Thanh Hóa demo portal; article n is in CATEGORIES[(n-1) % 5].
CATEGORIES: tuple[Category, ...] = tuple(
    Category(slug, name, i)
    for i, (slug, name) in enumerate(
        (
            ("tin-tuc-su-kien", "Tin tức - Sự kiện"),
            ("kinh-te-xa-hoi", "Kinh tế - Xã hội"),
            ("nong-nghiep-nong-thon-moi", "Nông nghiệp - Nông thôn mới"),
            ("van-hoa-the-thao", "Văn hóa - Thể thao"),
            ("quoc-phong-an-ninh", "Quốc phòng - An ninh"),
        )
    )
)


@dataclass(frozen=True)
class PortalInfo:
    """Who runs the portal (header and footer text)."""

    name: str = "Cổng thông tin điện tử huyện Triệu Sơn"
    owner: str = "UBND huyện Triệu Sơn, tỉnh Thanh Hóa"
    editor: str = "Chánh Văn phòng HĐND và UBND huyện Triệu Sơn"
    address: str = "Thị trấn Triệu Sơn, huyện Triệu Sơn, tỉnh Thanh Hóa"


# ------------------------------------------------------------------ body blocks
@dataclass(frozen=True)
class Paragraph:
    """A body paragraph, text as published (NBSP indentation kept)."""

    text: str
    kind: ClassVar[str] = "p"


@dataclass(frozen=True)
class ImageRef:
    """One image file: its name and its root-relative path on the site."""

    file: str
    path: str


@dataclass(frozen=True)
class ImageRun:
    """Consecutive images with one optional caption line under the run.

    ``inline``: all images in one centred paragraph separated by ``<br />``;
    ``separate``: one centred paragraph per image.
    """

    images: tuple[ImageRef, ...]
    caption: str | None
    style: Literal["inline", "separate"]
    kind: ClassVar[str] = "images"


@dataclass(frozen=True)
class Signature:
    """The author's right-aligned signature line (NBSP padding kept)."""

    text: str
    kind: ClassVar[str] = "signature"


Block = Paragraph | ImageRun | Signature


# --------------------------------------------------------------------- article
@dataclass(frozen=True)
class Headline:
    """What listings and related lists show of an article: link, title, date."""

    id: int
    #: Root-relative URL path of the article page.
    path: str
    title: str
    #: Publication time, aware, +07:00.
    published: datetime
    category: Category

    @property
    def date_text(self) -> str:
        """The date line as shown under the title: ``Ngày 15/01/2022 16:48:18``."""
        return "Ngày " + self.print_date

    @property
    def print_date(self) -> str:
        """``15/01/2022 16:48:18`` (the print copy's ``Đăng lúc: …`` time)."""
        return self.published.strftime("%d/%m/%Y %H:%M:%S")

    @property
    def short_date(self) -> str:
        """``15/01/2022`` as listings and related lists show it."""
        return self.published.strftime("%d/%m/%Y")

    def url(self, base_url: str) -> str:
        """Absolute URL of the article on a server at ``base_url``."""
        return urljoin(base_url, self.path)


@dataclass(frozen=True)
class DemoArticle(Headline):
    """One article of the demo site, as the portal publishes it."""

    blocks: tuple[Block, ...] = ()
    #: ``key`` of the seed this article reproduces, None for synthetic ones.
    seed_key: str | None = None
    #: Visitor counter the seed page showed (today, yesterday, week, month, all).
    counter: tuple[int, ...] | None = field(default=None, compare=False)
    #: Layout family the article is served in (decides how its date is shown).
    layout: str = field(default="thanhhoa", compare=False)
    #: Documents the article links in its "Tài liệu đính kèm" block.
    attachments: tuple[DemoDocument, ...] = field(default=(), compare=False)

    @property
    def shown_date(self) -> str:
        """The date line as this article's layout shows it under the title."""
        return get_layout(self.layout).date_text(self.published)

    @property
    def signature(self) -> str | None:
        """The signature line as written (NBSP padding kept), None when unsigned."""
        for b in self.blocks:
            if isinstance(b, Signature):
                return b.text
        return None

    @property
    def images(self) -> list[tuple[ImageRef, str | None]]:
        """Every image in reading order with the caption of its run."""
        return [
            (img, b.caption) for b in self.blocks if isinstance(b, ImageRun) for img in b.images
        ]

    @property
    def paragraphs(self) -> list[str]:
        """Body paragraph texts folded (NBSP → space), empty ones dropped."""
        texts = (fold(b.text) for b in self.blocks if isinstance(b, Paragraph))
        return [t for t in texts if t]

    @property
    def author(self) -> str | None:
        """The signature, folded; None when the article is unsigned."""
        for b in self.blocks:
            if isinstance(b, Signature):
                return fold(b.text) or None
        return None

    def summary(self, words: int = 40) -> str:
        """First paragraph cut to ``words`` words (listing pages)."""
        first = self.paragraphs[0].split() if self.paragraphs else []
        return " ".join(first[:words]) + (" ..." if len(first) > words else "")

    def to_article(self, base_url: str) -> Article:
        """The record a correct extractor must produce from this article's page."""
        url = self.url(base_url)
        author = self.author
        layout = get_layout(self.layout)
        return Article(
            url=url,
            canonical_url=url,
            title=fold(self.title),
            body="\n\n".join(self.paragraphs),
            published=layout.page_time(self.published),
            published_raw=layout.date_text(self.published),
            author=author,
            # A signature is a pen name, optionally followed by " - <unit>".
            authors=[author.split(" - ")[0]] if author else [],
            images=[
                Image(
                    url=urljoin(base_url, img.path),
                    caption=fold(caption) if caption and fold(caption) else None,
                    alt=img.file,
                    position=i,
                )
                for i, (img, caption) in enumerate(self.images)
            ],
            category=self.category.name,
            language="vi",
            extractor="",
        )


# ------------------------------------------------------------------------ site
class DemoSite:
    """A deterministic demo portal of ``size`` articles (ids 1..size).

    Same ``(size, seed, layout)`` → same content, byte for byte. ``size`` must
    be in ``[MIN_SIZE, MAX_SIZE]``; ``layout`` a key of ``layouts.LAYOUTS``.
    """

    def __init__(self, size: int = 200, seed: int = 1, layout: str = "thanhhoa",
                 portal: PortalInfo | None = None, cache_size: int = 2048,
                 revisions: dict[int, int] | None = None,
                 missing_images: set[str] | None = None,
                 visible: int | None = None, documents: bool = False) -> None:
        if not MIN_SIZE <= size <= MAX_SIZE:
            raise ValueError(f"size must be between {MIN_SIZE} and {MAX_SIZE}, not {size}")
        if visible is not None and not 1 <= visible <= size:
            raise ValueError(f"visible must be between 1 and size ({size}), not {visible}")
        self.size = size
        #: Articles published so far (ids 1..visible); the newest ``size - visible``
        #: appear later, with the same content and dates (re-crawl tests).
        self.visible = size if visible is None else visible
        #: ``{article id: revision}``: an article with a revision > 0 has an
        #: extra closing paragraph naming it (an edit between two crawls).
        #: Mutable: a test may edit articles while the portal is served.
        self.revisions: dict[int, int] = dict(revisions or {})
        #: Image file names the portal references but no longer serves (404).
        self.missing_images: set[str] = set(missing_images or ())
        #: Attach documents (PDF, DOCX, a scanned PDF …) to some articles
        #: (:mod:`scraper.demo.documents`).
        self.documents = documents
        #: Document file names that answer 500 (a test may change them while serving).
        self.failing_documents: set[str] = set()
        self.seed = seed
        self.layout: Layout = get_layout(layout)
        self.portal = portal or PortalInfo()
        self.categories: tuple[Category, ...] = CATEGORIES
        self._by_slug = {c.slug: c for c in self.categories}
        self._seeds: dict[int, SeedRecord] = {}
        self._seed_images: dict[str, int] = {}
        self._anchors = self._place_seeds(load_seeds())
        self._cached = lru_cache(maxsize=cache_size)(self._build)
        self._cached_head = lru_cache(maxsize=cache_size)(self._build_head)

    # ----------------------------------------------------------- public queries
    @property
    def article_count(self) -> int:
        return self.visible

    @property
    def seed_ids(self) -> dict[str, int]:
        """``{seed key: article id}`` of the real articles included verbatim."""
        return {s.key: n for n, s in self._seeds.items()}

    def article(self, n: int) -> DemoArticle:
        """Article ``n`` (cached in a bounded LRU); ``NotFound`` outside 1..size."""
        article = self._cached(n)
        revision = self.revisions.get(n, 0)
        return _revised(article, revision) if revision else article

    def headline(self, n: int) -> Headline:
        """Article ``n``'s link, title and date, without building its body."""
        return self._cached_head(n)

    def category(self, slug: str) -> Category:
        try:
            return self._by_slug[slug]
        except KeyError:
            raise NotFound(f"no category {slug!r}") from None

    def category_of(self, n: int) -> Category:
        return self.categories[(n - 1) % len(self.categories)]

    def category_ids(self, slug: str) -> range:
        """Ids of a category, oldest first (a lazy ``range``)."""
        c = self.category(slug)
        return range(c.index + 1, self.visible + 1, len(self.categories))

    def page_count(self, slug: str) -> int:
        """Listing pages of a category (at least 1)."""
        return max(1, -(-len(self.category_ids(slug)) // PAGE_SIZE))

    def category_page(self, slug: str, page: int) -> list[DemoArticle]:
        """Page ``page`` (1-based) of a category, newest first; [] past the end."""
        if page < 1:
            return []
        ids = self.category_ids(slug)[::-1][(page - 1) * PAGE_SIZE: page * PAGE_SIZE]
        return [self.article(n) for n in ids]

    def latest(self, slug: str, count: int = 5) -> list[Headline]:
        """The newest ``count`` articles of a category."""
        return [self.headline(n) for n in self.category_ids(slug)[::-1][:count]]

    def related(self, article: Headline, count: int = 5) -> list[Headline]:
        """``Các tin khác``: the next older articles of the same category, else newer ones."""
        ids = self.category_ids(article.category.slug)
        pos = ids.index(article.id)
        older = ids[max(0, pos - count): pos][::-1]
        newer = ids[pos + 1: pos + 1 + count - len(older)]
        return [self.headline(n) for n in [*older, *newer]]

    def iter_articles(self, newest_first: bool = False) -> Iterator[DemoArticle]:
        """Every article lazily, oldest first (by id) unless ``newest_first``."""
        ids = range(self.visible, 0, -1) if newest_first else range(1, self.visible + 1)
        for n in ids:
            yield self.article(n)

    def listing_path(self, slug: str, page: int = 1) -> str:
        return self.layout.scheme.listing(self.category(slug).name, page)

    def has_image(self, path: str, file: str) -> bool:
        """Whether ``path`` is an image of some article (its file name says which)."""
        if file in self.missing_images:
            return False
        for n in self._image_owners(file):
            if any(img.path == path for img, _ in self.article(n).images):
                return True
        return False

    # -------------------------------------------------------------- time slots
    def _place_seeds(self, seeds: list[SeedRecord]) -> list[tuple[int, int]]:
        """Give each seed the id of its category nearest to its real date.

        Returns the anchors ``(id, seconds since FIRST_DAY)`` through which
        slot starts are interpolated: a seed's slot starts at its real time.
        """
        span = int((END - FIRST_DAY).total_seconds())
        k = len(self.categories)
        seeds = sorted(seeds, key=lambda s: s.published)
        anchors = [(1, 0)]
        prev = 0
        for j, s in enumerate(seeds):
            offset = int((s.published - FIRST_DAY).total_seconds())
            natural = 1 + offset * self.size // span
            ids = self.category_ids(s.category)
            lo = 0 if prev < ids[0] else (prev - ids[0]) // k + 1
            hi = len(ids) - len(seeds) + j  # leave an id for every later seed
            if lo > hi:
                raise ValueError(f"size {self.size} is too small to place the seed articles")
            n = ids[min(max(lo, round((natural - ids[0]) / k)), hi)]
            self._seeds[n] = s
            self._seed_images.update((f, n) for f in s.image_files())
            if n == 1:
                anchors[0] = (1, offset)
            else:
                anchors.append((n, offset))
            prev = n
        anchors.append((self.size + 1, span))
        return anchors

    def _slot_start(self, n: int) -> int:
        """Seconds after FIRST_DAY at which id ``n``'s slot begins (n in 1..size+1)."""
        for (a_n, a_t), (b_n, b_t) in zip(self._anchors, self._anchors[1:], strict=False):
            if a_n <= n < b_n:
                return a_t + (n - a_n) * (b_t - a_t) // (b_n - a_n)
        return self._anchors[-1][1]

    def _published(self, n: int, rng: random.Random) -> datetime:
        start, end = self._slot_start(n), self._slot_start(n + 1)
        t = start + rng.randrange(end - start)
        if end - start >= 2 * 86400:
            # Office-ish hours on the drawn day, when that day is inside the slot.
            day = t - t % 86400  # FIRST_DAY is midnight, Vietnam time
            office = day + rng.randrange(7 * 3600, 22 * 3600)
            if start <= office < end:
                t = office
        return FIRST_DAY + timedelta(seconds=t)

    # --------------------------------------------------------------- building
    def _build(self, n: int) -> DemoArticle:
        if not 1 <= n <= self.visible:
            raise NotFound(f"no article {n} (ids are 1..{self.visible})")
        if n in self._seeds:
            return self._build_seed(n, self._seeds[n])
        head, rng, writer = self._head(n)
        blocks = self._body(n, rng, writer, head.published)
        return DemoArticle(head.id, head.path, head.title, head.published, head.category, blocks,
                           layout=self.layout.name,
                           attachments=documents_of(n) if self.documents else ())

    def has_document(self, file: str) -> bool:
        """Whether some article links the document file ``file``."""
        if not self.documents:
            return False
        n = _number(file)
        ids = [n] if n is not None else range(1, EVERY + 1)
        return any(d.url.endswith("/" + file) for i in ids if 1 <= i <= self.visible
                   for d in documents_of(i))

    def _build_head(self, n: int) -> Headline:
        if not 1 <= n <= self.visible:
            raise NotFound(f"no article {n} (ids are 1..{self.visible})")
        if n in self._seeds:
            a = self.article(n)
            return Headline(a.id, a.path, a.title, a.published, a.category)
        return self._head(n)[0]

    def _head(self, n: int) -> tuple[Headline, random.Random, Writer]:
        """Article ``n``'s headline, and its RNG and writer positioned to write the body."""
        if not 1 <= n <= self.visible:
            raise NotFound(f"no article {n} (ids are 1..{self.visible})")
        rng = random.Random(f"{self.seed}:{n}")
        published = self._published(n, rng)
        category = self.category_of(n)
        writer = Writer(rng, published.year)
        title = writer.title(category.slug)
        path = self.layout.scheme.article(n, published, title, category.name)
        return Headline(n, path, title, published, category), rng, writer

    def _build_seed(self, n: int, s: SeedRecord) -> DemoArticle:
        blocks: list[Block] = []
        for b in s.blocks:
            if b["kind"] == "p":
                blocks.append(Paragraph(b["text"]))
            elif b["kind"] == "signature":
                blocks.append(Signature(b["text"]))
            else:
                refs = tuple(self._image_ref(s.published, f) for f in b["files"])
                blocks.append(ImageRun(refs, b.get("caption"), b["style"]))
        return DemoArticle(
            n,
            self.layout.scheme.article(n, s.published, s.title, self.category(s.category).name),
            s.title,
            s.published,
            self.category(s.category),
            blocks=tuple(blocks),
            seed_key=s.key,
            counter=s.counter,
            layout=self.layout.name,
        )

    def _image_ref(self, published: datetime, file: str) -> ImageRef:
        return ImageRef(file, self.layout.scheme.image(published, file))

    def _body(self, n: int, rng: random.Random, writer: Writer,
              published: datetime) -> tuple[Block, ...]:
        indent = "\xa0 \xa0 " if rng.random() < 0.4 else ""
        texts = [writer.paragraph() for _ in range(rng.randint(2, 7))]
        if rng.random() < 0.6:
            texts[0] = writer.opening(published.date()) + " " + texts[0]
        blocks: list[Block] = [
            Paragraph(indent + t if i and rng.random() < 0.8 else t) for i, t in enumerate(texts)
        ]
        count = rng.choices((0, 1, 2, 3, 4), weights=(25, 30, 20, 15, 10))[0]
        if count:
            files = _image_files(n, count, rng, published)
            cut = rng.randint(1, count) if count > 1 and rng.random() < 0.3 else count
            runs = [files[:cut], files[cut:]] if cut < count else [files]
            # Each run goes after a different paragraph, in reading order, so two
            # runs never touch and a caption always belongs to one run.
            gaps = sorted(rng.sample(range(1, len(blocks) + 1), len(runs)))
            for run, gap in reversed(list(zip(runs, gaps, strict=True))):
                style: Literal["inline", "separate"] = rng.choice(("inline", "separate"))
                captioned = rng.random() < 0.8 or self.layout.always_captioned
                caption = writer.caption() if captioned else None
                refs = tuple(self._image_ref(published, f) for f in run)
                extra: list[Block] = [Paragraph("\xa0")] if rng.random() < 0.3 else []
                blocks[gap:gap] = [ImageRun(refs, caption, style), *extra]
        if rng.random() < 0.92 or self.layout.always_signed:
            pad = "\xa0 " * rng.randint(20, 45) if rng.random() < 0.3 else ""
            blocks.append(Signature(pad + writer.signature()))
        return tuple(blocks)

    def _image_owners(self, file: str) -> list[int]:
        """Ids whose images may be called ``file`` (to be verified by path)."""
        if file in self._seed_images:
            return [self._seed_images[file]]
        owners = []
        for run in _digit_runs(file):
            for value in (run, run - _PHONE_OFFSET):
                n = value // 10
                if 1 <= n <= self.size and n not in owners:
                    owners.append(n)
        return owners


def _number(file: str) -> int | None:
    digits = file.rpartition(".")[0].rpartition("-")[2]
    return int(digits) if digits.isdigit() else None


def _revised(article: DemoArticle, revision: int) -> DemoArticle:
    """The article after an edit: a closing paragraph added before the signature."""
    note = Paragraph(f"Cập nhật lần {revision}: bài viết được bổ sung thông tin "
                     f"theo báo cáo mới nhất của UBND huyện.")
    blocks = list(article.blocks)
    at = next((i for i, b in enumerate(blocks) if isinstance(b, Signature)), len(blocks))
    blocks.insert(at, note)
    return replace(article, blocks=tuple(blocks))


def _image_files(n: int, count: int, rng: random.Random, published: datetime) -> list[str]:
    """File names of an article's images in one camera's style.

    Each name embeds ``n * 10 + i`` so the server can find the owner of an
    image from its name alone, without an index.
    """
    style = rng.randrange(4)
    names = []
    for i in range(count):
        t = n * 10 + i
        if style == 0:
            names.append(f"CIMG{t:04d}.JPG")
        elif style == 1:
            names.append(f"DSC_{t:04d}.JPG")
        elif style == 2:
            names.append(f"IMG_{published:%Y%m%d}_{t}.jpg")
        else:
            names.append(f"z{_PHONE_OFFSET + t}_{rng.getrandbits(128):032x}.jpg")
    return names


def _digit_runs(text: str) -> list[int]:
    runs, current = [], ""
    for ch in text + " ":
        if ch.isascii() and ch.isdigit():
            current += ch
        elif current:
            runs.append(int(current))
            current = ""
    return runs


@dataclass(frozen=True)
class SeedRecord:
    """One real article of ``data/seeds.json``, reproduced verbatim by the site."""

    key: str
    title: str
    date_text: str
    published: datetime
    category: str
    #: ``{"kind": "p"|"images"|"signature", ...}`` as in the JSON file.
    blocks: tuple[dict[str, Any], ...]
    #: Visitor counter the page showed: today, yesterday, week, month, all.
    counter: tuple[int, ...]

    def image_files(self) -> list[str]:
        return [f for b in self.blocks for f in b.get("files", ())]


def load_seeds(path: Path = SEEDS_FILE) -> list[SeedRecord]:
    """The seed articles of ``data/seeds.json``."""
    return [
        SeedRecord(
            key=str(s["key"]),
            title=str(s["title"]),
            date_text=str(s["date_text"]),
            published=datetime.fromisoformat(s["published"]),
            category=str(s["category"]),
            blocks=tuple(s["blocks"]),
            counter=tuple(int(v) for v in s["counter"]),
        )
        for s in json.loads(path.read_text(encoding="utf-8"))
    ]
