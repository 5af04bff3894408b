"""The portal spider: home page → listings (with pagination) → articles.

Stays on the portal's host, obeys robots.txt (Scrapy's middleware), hands
every article page to the pipelines as a :class:`PageItem`. The portal is
given as JSON (``-a portal='{...}'``) by ``portal-archive crawl``, or by id
(``-a portal=demo``) with an optional ``-a base_url=``.

Crawl modes (setting ``PORTAL_ARCHIVE_MODE``, or ``-a mode=``; ``auto``, the
default, lets the spider choose from the archive's crawl runs and the job
folder when it starts, however it was started: :mod:`scraper.crawlstate`):

``incremental`` (chosen after a finished crawl)
    The archive's URLs for this portal are read at start. Known articles are
    not requested again, and a listing stops paging once it has shown
    ``PORTAL_ARCHIVE_KNOWN_PAGES`` pages in a row holding nothing new: a
    re-crawl of an unchanged portal costs a few listing pages. On top, a
    revisit budget (``PORTAL_ARCHIVE_REVISIT``, default 1% of the archive, at
    least 50) of the archived articles seen longest ago are fetched again:
    over successive crawls every article is verified in turn.
``resume`` (chosen when the last crawl did not finish)
    After an interrupted crawl: known articles are skipped, but listings are
    walked to their end (what the killed crawl never reached is still there).
``full``
    Everything is fetched again, and every archived article of the portal is
    revisited.

A revisited article that answers 404/410, or redirects to a page that is not
an article (the home page, a listing), is marked ``gone`` (it stays in the
archive, with ``gone_at``); one that answers normally goes through the
pipelines like any page: ``last_seen`` moves on, and a changed text becomes a
revision. A gone article that answers again is live again.

In every mode a page leads on only while it shows article links not seen
yet in this crawl (or, incremental, not archived): a pagination that never
ends, a calendar with infinite date links, a redirect loop or session ids
in URLs cannot keep the crawl going for ever (``PORTAL_ARCHIVE_TRAP_PAGES``).
"""

from __future__ import annotations

import contextlib
import json
import re
import shutil
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import scrapy
from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.http import HtmlResponse, Response
from scrapy.linkextractors import LinkExtractor

from archive.store import Archive
from scraper.crawlstate import (
    AUTO,
    MODES,
    RESUMABLE_MARK,
    CrawlPlan,
    job_dir,
    plan_crawl,
    revisit_budget,
)
from scraper.extract.notfound import SAME_PAGE, not_found_notice, page_signature, similarity
from scraper.extract.urls import canonicalize_url
from scraper.families import link_rules
from scraper.fpset import FingerprintSet
from scraper.items import PageItem
from scraper.portals import Portal, resolve_portal
from spiders.discovery import Discovery, url_kind

STATS = "portal_archive"
#: Request meta of a revisit: the archived (canonical) URL being verified.
REVISIT = "portal_archive_revisit"
#: Redirect hops a revisit follows when the portal only respells its URL.
REVISIT_MAX_HOPS = 5
#: Statuses a revisit sees itself: gone (404/410), and redirects (not followed
#: by Scrapy: where they lead decides whether the article is gone).
REVISIT_STATUSES = [301, 302, 303, 307, 308, 404, 410]
#: The number a soft-404 probe puts in an article URL (no portal has that many articles).
PROBE_ID = "987654321"
_DIGITS = re.compile(r"\d+")


class PortalSpider(scrapy.Spider):
    name = "portal"
    #: A deleted article answers 404/410: the spider sees it to mark it gone.
    handle_httpstatus_list = [404, 410]

    def __init__(self, portal: str = "", base_url: str = "", portals_file: str = "",
                 mode: str = "", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if not portal:
            raise ValueError("give the portal: -a portal=ID (or a JSON object, or a URL)")
        if portal.lstrip().startswith("{"):
            self.portal = Portal(**json.loads(portal))
        else:
            self.portal = resolve_portal(portal, portals_file or None)
        if base_url:
            self.portal = self.portal.with_base_url(base_url)
        self.rules = link_rules(self.portal.layout)
        self.allowed_domains = [self.portal.host]
        # Host filtering is ours (_on_portal): LinkExtractor's compares host:port.
        self.links = LinkExtractor(unique=True)
        self.mode_arg = mode
        self.mode = "incremental"
        #: How the mode was chosen (set by from_crawler).
        self.plan = CrawlPlan("incremental", "not planned")
        self.revisit_setting: Any = AUTO
        self.margin = 2
        # 64-bit keys in compact tables (8-16 bytes a URL, not ~100 in a set of
        # ints): a 100 000-article crawl's memory stays flat (bench/memprobe.py).
        #: Keys of the archived URLs of this portal (incremental/resume: not fetched again).
        self.known = FingerprintSet()
        #: Keys of the article URLs met in this crawl.
        self.seen = FingerprintSet()
        #: Archived articles that answered 404/410 (or a soft 404, or a redirect home).
        self.gone: list[str] = []
        #: Archived articles that now redirect to another article's URL.
        self.moved: list[str] = []
        #: Signature of the page the portal serves for a URL that cannot exist,
        #: when it serves one with status 200 (soft 404s; see _probe).
        self.probe_page: frozenset[int] | None = None
        self.db_path = ""
        self.run_id = 0
        # Layouts whose rules know no article URLs: sitemaps, feeds, page shape.
        self.discovery = Discovery(self) if self.rules.article is None else None

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> PortalSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        settings = crawler.settings
        requested = spider.mode_arg or settings.get("PORTAL_ARCHIVE_MODE") or AUTO
        if requested not in (*MODES, AUTO):
            raise ValueError(f"unknown crawl mode {requested!r} (use {', '.join(MODES)} or auto)")
        spider.db_path = settings.get("PORTAL_ARCHIVE_DB", "")
        spider.run_id = settings.getint("PORTAL_ARCHIVE_RUN_ID", 0)
        spider.revisit_setting = settings.get("PORTAL_ARCHIVE_REVISIT", AUTO)
        revisit_budget(spider.revisit_setting, 0)  # a bad value fails now, not mid-crawl
        # The queue on disk: next to the archive unless JOBDIR is given (settings
        # are not frozen before the spider exists: Scrapy reads JOBDIR later).
        jobdir = settings.get("JOBDIR")
        if not jobdir and spider.db_path and settings.getbool("PORTAL_ARCHIVE_JOBDIR", True) \
                and not settings.frozen:
            jobdir = str(job_dir(spider.db_path, spider.portal.id))
            settings.set("JOBDIR", jobdir, priority="spider")
        # Before Scrapy opens the JOBDIR: keep it only to resume a clean stop.
        archive = spider._archive()
        try:
            spider.plan = plan_crawl(archive, spider.portal.id, requested=requested,
                                     own_run_id=spider.run_id, jobdir=jobdir or None)
        finally:
            if archive is not None:
                archive.close()
        spider.mode = mode = spider.plan.mode
        spider.margin = (settings.getint("PORTAL_ARCHIVE_KNOWN_PAGES", 2) if mode == "incremental"
                         else settings.getint("PORTAL_ARCHIVE_TRAP_PAGES", 5))
        crawler.signals.connect(spider._engine_stopped, signal=signals.engine_stopped)
        return spider

    # ------------------------------------------------------------------ state
    @staticmethod
    def _key(url: str) -> int:
        # A 64-bit int per URL, not the string (SipHash, this process only).
        return hash(url) & 0xFFFF_FFFF_FFFF_FFFF

    def _inc(self, key: str, count: int = 1) -> None:
        if self.crawler.stats is not None:
            self.crawler.stats.inc_value(f"{STATS}/{key}", count)

    def _archive(self) -> Archive | None:
        """The archive this crawl writes to, when it exists (read known URLs, mark gone)."""
        if not self.db_path or not Path(self.db_path).is_file():
            return None
        return Archive(self.db_path)

    def _stat_run_id(self) -> int:
        """This crawl's run: given by `portal-archive crawl`, else the pipeline's."""
        if self.run_id:
            return self.run_id
        stats = self.crawler.stats
        value = stats.get_value(f"{STATS}/run_id") if stats is not None else None
        return int(value) if value else 0

    def _prepare(self) -> list[str]:
        """Read the archive's URLs, record the plan with the run; the URLs to revisit
        (incremental mode: the budget's least recently seen live articles)."""
        stats = self.crawler.stats
        if stats is not None:
            stats.set_value(f"{STATS}/mode", self.mode)
            stats.set_value(f"{STATS}/job_resumed", self.plan.job_resumed)
        archive = self._archive()
        if archive is None:
            return []
        try:
            self.known = FingerprintSet(self._key(u) for u in archive.known_urls(self.portal.id))
            revisits: list[str] = []
            budget = 0
            if self.mode == "incremental":
                budget = revisit_budget(self.revisit_setting, archive.count_live(self.portal.id))
                revisits = archive.least_recently_seen(self.portal.id, budget)
            run_id = self._stat_run_id()
            if run_id:
                archive.update_run_settings(run_id, {**self.plan.as_settings(),
                                                     "PORTAL_ARCHIVE_REVISIT_BUDGET": budget})
        finally:
            archive.close()
        if stats is not None:
            stats.set_value(f"{STATS}/known_urls", len(self.known))
            stats.set_value(f"{STATS}/revisit/budget", budget)
        return revisits

    def _revisit(self, url: str, hops: int = 0, **kwargs: Any) -> scrapy.Request:
        """A request verifying the archived article at ``url`` (after new work: priority -10)."""
        return scrapy.Request(url, callback=self.parse, priority=-10, cb_kwargs={"stale": 0},
                              meta={REVISIT: url, "portal_archive_hops": hops,
                                    "dont_redirect": True,
                                    "handle_httpstatus_list": REVISIT_STATUSES}, **kwargs)

    async def start(self) -> AsyncIterator[Any]:
        mark = self._resumable_mark()
        if mark is not None:
            mark.unlink(missing_ok=True)  # from now on only a clean stop makes it resumable
        revisits = self._prepare()
        # dont_filter: a crawl resumed from its JOBDIR starts from its queue,
        # the home page must still be fetched when the job is new.
        yield scrapy.Request(self.portal.base_url, callback=self.parse, dont_filter=True)
        if revisits:
            yield self._probe(revisits[0])
        if self.discovery is not None:
            for request in self.discovery.start_requests():
                yield request
        # Incremental: the revisit budget. Polite like any request (same
        # downloader slot, delays and AutoThrottle), after the new articles.
        for url in revisits:
            yield self._revisit(url)
        if self.mode != "full":
            return
        archive = self._archive()
        if archive is None:
            return
        try:
            # Full: revisit all the archive holds: an article the portal deleted
            # is linked from nowhere any more, and answers 404 here; one marked
            # gone that is served again comes back.
            probed = bool(revisits)
            for url in archive.archived_urls(self.portal.id):
                if not probed:
                    yield self._probe(url)
                    probed = True
                yield self._revisit(url)
        finally:
            archive.close()

    # ------------------------------------------------------------------ crawl
    def _on_portal(self, url: str) -> bool:
        parts = urlsplit(url)
        return parts.hostname == self.portal.host and parts.path.startswith(
            urlsplit(self.portal.base_url).path
        )

    def _normalise(self, raw: str, count: bool = False) -> str:
        url = canonicalize_url(raw)
        if count and url != raw:
            self._inc("links/canonicalised")  # session ids, tracking parameters
        same = self.rules.same_page(url)
        if count and same != url:
            self._inc("links/same_page")  # the same article under another URL
        return same

    def parse(self, response: Response, stale: int = 0, **kwargs: Any) -> Iterator[Any]:
        revisit = response.meta.get(REVISIT)
        if revisit:
            if 300 <= response.status < 400:
                yield from self._revisit_redirected(response, revisit)
                return
            self._inc("articles/revisited")  # one per article verified: its final answer
            if response.status == 200 and self._soft_404(response):
                self.gone.append(revisit)
                self._inc("articles/gone")
                self._inc("articles/gone_soft404")
                return
        if response.status >= 400:
            self._gone_or_error(response, revisit)
            return
        if not isinstance(response, HtmlResponse):
            return
        latency = response.meta.get("download_latency")
        if latency is not None and self.crawler.stats is not None:
            self.crawler.stats.max_value(f"{STATS}/slowest_response_ms", int(latency * 1000))
        self._check_charset(response)
        url = self._normalise(response.url)
        kind = self.rules.classify(url)
        if self.discovery is not None:
            yield from self.discovery.from_page(response)
            if kind == "page" and self.discovery.is_listing(response):
                kind = "listing"
        if kind in ("article", "page"):
            yield PageItem(
                # As fetched (the WARC record's URL), unless only the layout's
                # rules know it as another spelling of an article's URL.
                url=response.url if canonicalize_url(response.url) == url else url,
                portal_id=self.portal.id,
                html=response.body,
                status=response.status,
                fetched_at=datetime.now(UTC).isoformat(timespec="seconds"),
            )
        links: list[tuple[str, str]] = []
        for link in self.links.extract_links(response):
            if not self._on_portal(link.url):
                continue
            target = self._normalise(link.url, count=True)
            link_kind = self.rules.classify(target)
            if link_kind == "page" and self.discovery is not None:
                link_kind = url_kind(target)  # guessed from the URL's shape
            if link_kind != "skip":
                links.append((target, link_kind))

        # Does this page show anything new? Known articles count as new only
        # when the crawl must walk past them (resume, full). Where the layout
        # knows no article URLs (discovery), any page not met yet is news.
        fresh = False
        for target, link_kind in links:
            if link_kind != "article" and not (self.discovery is not None and link_kind == "page"):
                continue
            key = self._key(target)
            if key not in self.seen and (self.mode != "incremental" or key not in self.known):
                fresh = True
            self.seen.add(key)
        streak = 0 if fresh else stale + 1
        if streak > self.margin:
            self._inc("pages/not_followed")  # nothing new for `margin` pages: stop here
            return
        here = self.rules.listing_page(url)
        for target, link_kind in links:
            if link_kind == "page" and self.discovery is not None:
                # Unknown kind (discovery): an archived article is not fetched again.
                if self.wants(target):
                    yield response.follow(target, callback=self.parse,
                                          cb_kwargs={"stale": streak})
                continue
            if link_kind == "article":
                if not self.wants(target):
                    continue
                # Articles first: a listing page only leads to more work.
                yield response.follow(target, callback=self.parse, priority=10,
                                      cb_kwargs={"stale": streak})
                continue
            there = self.rules.listing_page(target)
            child = streak
            if there is not None and there[1] == 1 and (here is None or here[0] != there[0]):
                child = 0  # the first page of another listing: its own count starts
            elif streak and here is not None and there is not None and there[0] == here[0] \
                    and there[1] > here[1] + 1 and self.mode == "incremental":
                # Nothing new here: walk on to the next page only, no jumps
                # to the far end of the listing.
                continue
            yield response.follow(target, callback=self.parse, cb_kwargs={"stale": child})

    def wants(self, url: str) -> bool:
        """Fetch this article from a link? Not when the archive holds it: a full
        crawl revisits every archived article from the start (as a revisit, which
        sees the 404s and redirects that tell a deleted article), the others skip it."""
        if self._key(url) in self.known:
            if self.mode != "full":
                self._inc("articles/known_skipped")
            return False
        return True

    def _gone_or_error(self, response: Response, revisit: str | None = None) -> None:
        self._inc(f"http_status/{response.status}")
        if response.status in (404, 410):
            url = revisit or self._normalise(response.url)
            if revisit or self._key(url) in self.known:
                self.gone.append(url)
                self._inc("articles/gone")

    def _revisit_redirected(self, response: Response, revisit: str) -> Iterator[Any]:
        """A revisited article redirects: respelt, gone, or moved to another article."""
        location = response.headers.get(b"Location")
        if not location:
            self._inc(f"http_status/{response.status}")
            return
        target = response.urljoin(location.decode("latin-1"))
        url = self._normalise(target)
        hops = int(response.meta.get("portal_archive_hops", 0))
        if url == self._normalise(revisit):
            # The same article under another spelling (scheme, query string …).
            if hops < REVISIT_MAX_HOPS:
                yield self._revisit(revisit, hops + 1, dont_filter=True).replace(url=target)
            else:
                self._inc("articles/revisit_redirect_loop")
            return
        self._inc("articles/revisited")
        if not self._on_portal(target) or not self._is_article_url(url):
            # Sent to the home page, a listing, another site: the article is gone.
            self.gone.append(revisit)
            self._inc("articles/gone")
            self._inc("articles/gone_redirected")
            return
        # Moved to another article URL: fetched as an article of its own (when
        # new); the archived one is verified (last_seen), not revisited next run.
        self._inc("articles/moved")
        self.moved.append(revisit)
        if self.wants(url):
            yield scrapy.Request(target, callback=self.parse, priority=10,
                                 cb_kwargs={"stale": 0})

    def _probe(self, like: str) -> scrapy.Request:
        """A request for an article URL that cannot exist, shaped like ``like`` (its
        last number changed): what the portal serves for a deleted article. A
        404 there is the honest answer; a page with status 200 is the portal's
        soft 404, which revisited articles are then compared with."""
        parts = urlsplit(like)
        numbers = list(_DIGITS.finditer(parts.path))
        if numbers:
            last = numbers[-1]
            path = parts.path[:last.start()] + PROBE_ID + parts.path[last.end():]
        else:
            stem, dot, ext = parts.path.rpartition(".")
            path = f"{stem}-{PROBE_ID}.{ext}" if dot and "/" not in ext else \
                parts.path.rstrip("/") + f"/{PROBE_ID}"
        url = parts._replace(path=path, query="", fragment="").geturl()
        return scrapy.Request(url, callback=self._probed, priority=100, dont_filter=True,
                              meta={"dont_redirect": True, "handle_httpstatus_all": True,
                                    "dont_retry": True})

    def _probed(self, response: Response) -> Iterator[Any]:
        self._inc(f"soft404/probe_status/{response.status}")
        if response.status == 200 and isinstance(response, HtmlResponse):
            self.probe_page = page_signature(response.body)
        return iter(())

    def _soft_404(self, response: Response) -> bool:
        """Is this page (a revisited article, status 200) a soft 404?"""
        if not isinstance(response, HtmlResponse):
            return False
        if self.probe_page is not None and \
                similarity(page_signature(response.body), self.probe_page) >= SAME_PAGE:
            return True
        return not_found_notice(response.body) is not None

    def _is_article_url(self, url: str) -> bool:
        """May ``url`` be an article page? (Its layout's rules, else its shape.)"""
        if urlsplit(url).path.rstrip("/") == urlsplit(self.portal.base_url).path.rstrip("/"):
            return False  # the home page
        kind = self.rules.classify(url)
        if kind == "page":  # a layout whose rules know no article URLs
            kind = url_kind(url)
        return kind in ("article", "page")

    def _check_charset(self, response: HtmlResponse) -> None:
        """Count pages whose declared charset is not what they are written in."""
        declared = (response.headers.get(b"Content-Type") or b"").decode("latin-1").lower()
        if "charset=" not in declared:
            return
        charset = declared.split("charset=", 1)[1].split(";")[0].strip()
        if charset.replace("-", "") in ("utf8", ""):
            return
        try:
            response.body.decode("utf-8")
        except UnicodeDecodeError:
            return
        if not response.body.isascii():
            self._inc("pages/charset_mismatch")

    def _resumable_mark(self) -> Path | None:
        jobdir = self.crawler.settings.get("JOBDIR")
        return Path(jobdir) / RESUMABLE_MARK if jobdir else None

    def closed(self, reason: str) -> None:
        self.close_reason = reason
        mark = self._resumable_mark()
        if mark is not None and reason not in ("finished", "archiver_failed"):
            # Stopped cleanly before the end: Scrapy saved the queue, the next
            # crawl continues from it (after a SIGKILL this file is missing).
            # Not when the archiver died: pages fetched were lost with it, and
            # the queue's seen-requests would keep the next crawl from them;
            # it resumes from the archive instead (listings walked again).
            mark.parent.mkdir(parents=True, exist_ok=True)
            mark.write_text(reason + "\n", encoding="utf-8")
        if not (self.gone or self.moved):
            return
        archive = self._archive()
        if archive is None:
            return
        try:
            # Counted in the run's articles_gone (the store counts what changed).
            archive.mark_gone(self.gone, run_id=self._stat_run_id() or None)
            archive.mark_seen(self.moved, run_id=self._stat_run_id() or None)
        finally:
            archive.close()

    def _engine_stopped(self) -> None:
        """A finished crawl's job folder is of no more use (Scrapy is done with it)."""
        jobdir = self.crawler.settings.get("JOBDIR")
        if jobdir and getattr(self, "close_reason", "") == "finished":
            shutil.rmtree(jobdir, ignore_errors=True)
            with contextlib.suppress(OSError):
                Path(jobdir).parent.rmdir()  # jobs/, when no other job is left
