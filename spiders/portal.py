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

The spider traverses; the rest is in units of their own, without Scrapy:
the crawl's mode and job folder (:mod:`scraper.crawlstate`), the run's
context (:mod:`scraper.runcontext`), the archive's connection
(:mod:`spiders.archiveview`), which archived articles to revisit and what
was found gone or moved (:mod:`spiders.revisits`), and soft-404 detection
(:mod:`spiders.soft404`).
"""

from __future__ import annotations

import contextlib
import json
import shutil
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import scrapy
from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest
from scrapy.http import HtmlResponse, Response
from scrapy.linkextractors import LinkExtractor
from scrapy.spidermiddlewares.httperror import HttpError

from scraper.bounds import ShapeCounter
from scraper.crawlstate import (
    AUTO,
    MODES,
    RESUMABLE_MARK,
    CrawlPlan,
    job_dir,
    plan_crawl,
    revisit_budget,
)
from scraper.extract.urls import canonicalize_url
from scraper.families import link_rules
from scraper.fpset import FingerprintSet
from scraper.items import PageItem
from scraper.portals import Portal, resolve_portal
from scraper.runcontext import RunContext, RunStats
from spiders.archiveview import CrawlArchive
from spiders.discovery import Discovery, url_kind
from spiders.revisits import RevisitLedger, RevisitPlan, full_sweep, url_key
from spiders.soft404 import Soft404Detector, probe_url

#: Request meta of a revisit: the archived (canonical) URL being verified.
REVISIT = "portal_archive_revisit"
#: Request meta of a revisit: redirect hops followed so far.
REVISIT_HOPS = "portal_archive_hops"
#: Request meta of the start page (its failure fails the crawl: scraper/runner.py).
START = "portal_archive_start"
#: Request meta of an article page requested from a link (its loss is counted).
ARTICLE = "portal_archive_article"
#: Redirect hops a revisit follows when the portal only respells its URL.
REVISIT_MAX_HOPS = 5
#: Statuses a revisit sees itself: gone (404/410), and redirects (not followed
#: by Scrapy: where they lead decides whether the article is gone).
REVISIT_STATUSES = [301, 302, 303, 307, 308, 404, 410]


class PortalSpider(scrapy.Spider):
    name = "portal"
    #: A deleted article answers 404/410: the spider sees it to mark it gone.
    handle_httpstatus_list = [404, 410]
    run_context: RunContext

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
        #: Archived articles found gone or moved (written to the archive at the end).
        self.ledger = RevisitLedger()
        self.soft404 = Soft404Detector()
        self.shapes = ShapeCounter()
        self.archive = CrawlArchive("")
        self._stats: RunStats | None = None
        # Layouts whose rules know no article URLs: sitemaps, feeds, page shape.
        self.discovery = Discovery(self) if self.rules.article is None else None

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> PortalSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        settings = crawler.settings
        requested = spider.mode_arg or settings.get("PORTAL_ARCHIVE_MODE") or AUTO
        if requested not in (*MODES, AUTO):
            raise ValueError(f"unknown crawl mode {requested!r} (use {', '.join(MODES)} or auto)")
        context = spider.run_context = RunContext.from_settings(settings, spider.portal)
        spider.archive = CrawlArchive(context.db_path)
        spider.revisit_setting = settings.get("PORTAL_ARCHIVE_REVISIT", AUTO)
        revisit_budget(spider.revisit_setting, 0)  # a bad value fails now, not mid-crawl
        # The queue on disk: next to the archive unless JOBDIR is given (settings
        # are not frozen before the spider exists: Scrapy reads JOBDIR later).
        jobdir = settings.get("JOBDIR")
        if not jobdir and context.db_path and settings.getbool("PORTAL_ARCHIVE_JOBDIR", True) \
                and not settings.frozen:
            jobdir = str(job_dir(context.db_path, spider.portal.id))
            settings.set("JOBDIR", jobdir, priority="spider")
        # Before Scrapy opens the JOBDIR: keep it only to resume a clean stop.
        spider.plan = context.plan = plan_crawl(
            spider.archive.get(), spider.portal.id, requested=requested,
            own_run_id=context.run_id, jobdir=jobdir or None)
        spider.mode = mode = spider.plan.mode
        spider.shapes = ShapeCounter(settings.getint("PORTAL_ARCHIVE_SHAPE_PAGES", 200))
        spider.margin = (settings.getint("PORTAL_ARCHIVE_KNOWN_PAGES", 2) if mode == "incremental"
                         else settings.getint("PORTAL_ARCHIVE_TRAP_PAGES", 5))
        crawler.signals.connect(spider._engine_stopped, signal=signals.engine_stopped)
        return spider

    # ------------------------------------------------------------------ state
    @staticmethod
    def _key(url: str) -> int:
        return url_key(url)

    @property
    def stats(self) -> RunStats:
        """The crawl's counters (Scrapy sets the crawler's collector when the crawl starts)."""
        if self._stats is None:
            self._stats = RunStats(self.crawler.stats)
        return self._stats

    def _inc(self, key: str, count: int = 1) -> None:
        self.stats.inc(key, count)

    def _prepare(self) -> list[str]:
        """Read the archive's URLs, record the plan with the run; the URLs to revisit
        (incremental mode: the budget's least recently seen live articles)."""
        self.stats.set("mode", self.mode)
        self.stats.set("job_resumed", self.plan.job_resumed)
        archive = self.archive.get()
        if archive is None:
            return []
        plan = RevisitPlan.read(archive, self.portal.id, self.plan, self.revisit_setting,
                                run_id=self.run_context.run_id)
        self.known = plan.known
        self.stats.set("known_urls", len(self.known))
        self.stats.set("revisit/budget", plan.budget)
        return plan.revisits

    def _revisit(self, url: str, hops: int = 0, **kwargs: Any) -> scrapy.Request:
        """A request verifying the archived article at ``url`` (after new work: priority -10)."""
        return scrapy.Request(url, callback=self.parse, priority=-10, cb_kwargs={"stale": 0},
                              meta={REVISIT: url, REVISIT_HOPS: hops,
                                    "dont_redirect": True,
                                    "handle_httpstatus_list": REVISIT_STATUSES}, **kwargs)

    async def start(self) -> AsyncIterator[Any]:
        mark = self._resumable_mark()
        if mark is not None:
            mark.unlink(missing_ok=True)  # from now on only a clean stop makes it resumable
        revisits = self._prepare()
        # dont_filter: a crawl resumed from its JOBDIR starts from its queue,
        # the home page must still be fetched when the job is new.
        yield scrapy.Request(self.portal.base_url, callback=self.parse, dont_filter=True,
                             errback=self._start_failed,
                             meta={START: True, "handle_httpstatus_list": list(range(400, 600))})
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
        probed = bool(revisits)
        for url in full_sweep(self.archive.get(), self.portal.id):
            if not probed:
                yield self._probe(url)
                probed = True
            yield self._revisit(url)

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
            if response.status == 200 and isinstance(response, HtmlResponse) \
                    and self.soft404.is_soft_404(response.body):
                self.ledger.gone.append(revisit)
                self._inc("articles/gone")
                self._inc("articles/gone_soft404")
                return
        if response.meta.get(START) and response.status >= 400:
            # After its retries and waits: the portal does not serve its home page.
            self.stats.set("start_page/failed", f"{self.portal.base_url} answers HTTP "
                           f"{response.status}")
        if response.status >= 400:
            self._gone_or_error(response, revisit)
            return
        if response.meta.get(START) and 300 <= response.status < 400:
            self.stats.set("start_page/failed", f"{self.portal.base_url} redirects "
                           f"({response.status}) off the portal or without end")
            return
        if not isinstance(response, HtmlResponse):
            return
        latency = response.meta.get("download_latency")
        if latency is not None:
            self.stats.max("slowest_response_ms", int(latency * 1000))
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
            if key not in self.seen:
                if link_kind == "page":
                    # A page of unknown kind is news while its shape is not a
                    # trap's (a calendar: one shape, a URL a day), and when it is
                    # not archived already.
                    if self.shapes.news(target) and key not in self.known:
                        fresh = True
                elif self.mode != "incremental" or key not in self.known:
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
                    yield self._follow(response, target, url_kind(target) == "article",
                                       cb_kwargs={"stale": streak})
                continue
            if link_kind == "article":
                if not self.wants(target):
                    continue
                # Articles first: a listing page only leads to more work.
                yield self._follow(response, target, True, priority=10,
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
            yield self._follow(response, target, False, cb_kwargs={"stale": child})

    def _follow(self, response: Response, url: str, article: bool,
                **kwargs: Any) -> scrapy.Request:
        """A link followed: its failure after the retries is counted (article pages:
        ``articles/lost``, which fails a crawl that loses too many)."""
        return response.follow(url, callback=self.parse, errback=self._failed,
                               meta={ARTICLE: True} if article else {}, **kwargs)

    def _start_failed(self, failure: Any) -> None:
        """The start page could not be fetched (after its retries)."""
        self.stats.set("start_page/failed", f"{self.portal.base_url}: {_failure_text(failure)}")
        self._failed(failure)

    def _failed(self, failure: Any) -> None:
        """A request that failed for good: counted by kind, never a traceback."""
        exc = failure.value
        request = getattr(failure, "request", None)
        text = str(exc)
        if isinstance(exc, IgnoreRequest) and "max redirections" in text:
            self._inc("cut/redirect_chain")
            return
        if isinstance(exc, IgnoreRequest) and "DOWNLOAD_MAXSIZE" in text:
            self._inc("bombs/content_encoding")  # inflated past the cap: dropped
            return
        if isinstance(exc, IgnoreRequest) and not isinstance(exc, HttpError):
            self._inc("requests/ignored")  # robots.txt, offsite: not a loss
            return
        self._inc(f"requests/failed/{type(exc).__name__}")
        if request is not None and request.meta.get(ARTICLE):
            response = getattr(exc, "response", None)
            if response is not None and response.status in (404, 410):
                self._inc("articles/dead_links")  # the portal links a page it lacks
            else:
                self._inc("articles/lost")

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
                self.ledger.gone.append(url)
                self._inc("articles/gone")

    def _revisit_redirected(self, response: Response, revisit: str) -> Iterator[Any]:
        """A revisited article redirects: respelt, gone, or moved to another article."""
        location = response.headers.get(b"Location")
        if not location:
            self._inc(f"http_status/{response.status}")
            return
        target = response.urljoin(location.decode("latin-1"))
        url = self._normalise(target)
        hops = int(response.meta.get(REVISIT_HOPS, 0))
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
            self.ledger.gone.append(revisit)
            self._inc("articles/gone")
            self._inc("articles/gone_redirected")
            return
        # Moved to another article URL: fetched as an article of its own (when
        # new); the archived one is verified (last_seen), not revisited next run.
        self._inc("articles/moved")
        self.ledger.moved.append(revisit)
        if self.wants(url):
            yield scrapy.Request(target, callback=self.parse, priority=10,
                                 cb_kwargs={"stale": 0})

    def _probe(self, like: str) -> scrapy.Request:
        """A request for an article URL that cannot exist, shaped like ``like``: what
        the portal serves for a deleted article (:mod:`spiders.soft404`)."""
        return scrapy.Request(probe_url(like), callback=self._probed, priority=100,
                              dont_filter=True,
                              meta={"dont_redirect": True, "handle_httpstatus_all": True,
                                    "dont_retry": True})

    def _probed(self, response: Response) -> Iterator[Any]:
        self._inc(f"soft404/probe_status/{response.status}")
        if isinstance(response, HtmlResponse):
            self.soft404.learn(response.status, response.body)
        return iter(())

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
        try:
            archive = self.archive.get() if self.ledger else None
            if archive is not None:
                # Counted in the run's articles_gone (the store counts what changed).
                self.ledger.record(archive, run_id=self.run_context.run_id or None)
        finally:
            self.archive.close()

    def _engine_stopped(self) -> None:
        """A finished crawl's job folder is of no more use (Scrapy is done with it)."""
        jobdir = self.crawler.settings.get("JOBDIR")
        if jobdir and getattr(self, "close_reason", "") == "finished":
            shutil.rmtree(jobdir, ignore_errors=True)
            with contextlib.suppress(OSError):
                Path(jobdir).parent.rmdir()  # jobs/, when no other job is left


def _failure_text(failure: Any) -> str:
    """A failed request's reason in a few words (no traceback)."""
    exc = failure.value
    response = getattr(exc, "response", None)
    if response is not None:
        return f"HTTP {response.status}"
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
