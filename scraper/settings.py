"""Scrapy settings for portal-archive.

Polite by default: these crawl government servers that are often small and
slow. ``FAST_LOCAL_SETTINGS`` are applied only to portals on a loopback
address (the demo portal).
"""

from __future__ import annotations

BOT_NAME = "portal-archive"
SPIDER_MODULES = ["spiders"]
NEWSPIDER_MODULE = "spiders"

USER_AGENT = (
    "portal-archive/0.1 (archival crawler preserving Vietnamese district news portals; "
    "polite: obeys robots.txt, 1-2 requests at a time)"
)
ROBOTSTXT_OBEY = True

# Politeness: at most two requests at a time to one host, AutoThrottle adapts
# the delay to the server's latency.
CONCURRENT_REQUESTS = 8
CONCURRENT_REQUESTS_PER_DOMAIN = 2
DOWNLOAD_DELAY = 1.0
DOWNLOAD_DELAY_JITTER = 0.5
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_MAX_DELAY = 30.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0
DOWNLOAD_TIMEOUT = 30
RETRY_ENABLED = True
RETRY_TIMES = 3
RETRY_HTTP_CODES = [500, 502, 503, 504, 522, 524, 408, 429]
# A request given up after its retries is counted (retry/max_reached, and
# articles/lost for article pages: `runs`), not printed: routine on old portals.
RETRY_GIVE_UP_LOG_LEVEL = "INFO"
# Bodies over DOWNLOAD_MAXSIZE are cut off, on the wire and after decompression
# alike: Scrapy's HttpCompressionMiddleware inflates Content-Encoding in chunks
# and stops at this size (a gzip bomb costs at most this much memory). The
# discovery spider's gzip sitemaps and `reextract`'s WARC records have the
# same cap (PORTAL_ARCHIVE_MAX_INFLATE, archive.reextract.MAX_RECORD_BYTES).
DOWNLOAD_MAXSIZE = 32 * 1024 * 1024
DOWNLOAD_WARNSIZE = 8 * 1024 * 1024
#: Redirect chains longer than this are cut (counted as cut/redirect_chain).
REDIRECT_MAX_TIMES = 10
COOKIES_ENABLED = False
TELNETCONSOLE_ENABLED = False

# Breadth-first: listings before the depths of pagination.
DEPTH_PRIORITY = 1
SCHEDULER_DISK_QUEUE = "scrapy.squeues.PickleFifoDiskQueue"
SCHEDULER_MEMORY_QUEUE = "scrapy.squeues.FifoMemoryQueue"
# Scrapy's duplicate filter, its fingerprints in a compact table (flat memory).
DUPEFILTER_CLASS = "scraper.dupefilter.CompactDupeFilter"

# ExtractPipeline hands each page to the crawl's storage (which extracts and
# stores it); StorePipeline opens that storage and records the run;
# ImageFilesPipeline fetches the stored articles' images, DocumentFilesPipeline
# their attached documents.
ITEM_PIPELINES = {
    "scraper.pipelines.ExtractPipeline": 100,
    "scraper.pipelines.StorePipeline": 900,
    "scraper.pipelines.ImageFilesPipeline": 950,
    "scraper.pipelines.DocumentFilesPipeline": 960,
}

# A page that is not an article is counted in the stats, not shouted about.
DEFAULT_DROPITEM_LOG_LEVEL = "DEBUG"
LOG_LEVEL = "INFO"
FEED_EXPORT_ENCODING = "utf-8"

# The archive this crawl writes to, and how many articles one transaction holds.
PORTAL_ARCHIVE_DB = "data/archive.db"
PORTAL_ARCHIVE_BATCH = 100
# The crawl_runs row of this crawl (created by `portal-archive crawl`; the
# pipeline creates one itself when the spider is run with plain `scrapy crawl`).
PORTAL_ARCHIVE_RUN_ID = 0
# Force an extraction profile for every page of the crawl ("generic": the
# generic extractor; empty: each page's structure selects its profile).
PORTAL_ARCHIVE_PROFILE = ""
# Where the pages are extracted, stored and written to WARC (scraper/storage.py):
# "process" (an archiver process beside the crawl, on another core),
# "in_process" (in the crawl process, store and WARC on writer threads; "inline"
# is read the same), or "auto" (a process on a machine with two cores or more).
# docs/crawl-speed.md.
PORTAL_ARCHIVE_ARCHIVER = "auto"
# in_process: store batches on a writer thread, write WARC records on a WARC
# thread (false: in the reactor's thread).
PORTAL_ARCHIVE_STORE_THREAD = True
PORTAL_ARCHIVE_WARC_THREAD = True

#: Overrides for a portal served on this machine (the demo portal): no delay,
#: many requests at once.
FAST_LOCAL_SETTINGS = {
    "DOWNLOAD_DELAY": 0,
    "DOWNLOAD_DELAY_JITTER": 0,
    "AUTOTHROTTLE_ENABLED": False,
    "CONCURRENT_REQUESTS": 16,
    "CONCURRENT_REQUESTS_PER_DOMAIN": 16,
    "DOWNLOAD_TIMEOUT": 15,
    "PORTAL_ARCHIVE_BACKOFF": 0.05,
}

# --- raw pages (WARC), images, progress ---------------------------------------
# Every response is written with its request to gzip WARC files under
# <data folder>/warc/<portal>/ (the data folder is the database's folder unless
# PORTAL_ARCHIVE_DATA_DIR says otherwise); a file is closed at this size.
DOWNLOADER_MIDDLEWARES = {
    "scraper.middlewares.WarcMiddleware": 950,
    # After RetryMiddleware (550) on the way in: 429/503 are waited out first.
    "scraper.middlewares.RetryAfterMiddleware": 560,
    "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
    "scraper.middlewares.PoliteRobotsTxtMiddleware": 100,
}
SPIDER_MIDDLEWARES = {
    "scraper.middlewares.WarcCaptureMiddleware": 960,
    # Outside DepthMiddleware (900): sees the depth it sets.
    "scraper.middlewares.BoundsMiddleware": 800,
}
EXTENSIONS = {
    "scraper.extensions.ProgressExtension": 500,
    "scraper.extensions.NetworkErrorLog": 100,
}
PORTAL_ARCHIVE_WARC = True
PORTAL_ARCHIVE_WARC_MAX_BYTES = 1_000_000_000
PORTAL_ARCHIVE_DATA_DIR = ""
# Article images are downloaded to <data folder>/images/ab/abcdef….jpg; a
# failed one is tried again by later crawls, up to this many attempts.
PORTAL_ARCHIVE_IMAGES = True
PORTAL_ARCHIVE_IMAGE_MAX_ATTEMPTS = 5
# Documents attached to articles (PDF, DOC, DOCX, XLS, XLSX, ODT) go to
# <data folder>/documents/ab/abcdef….pdf with their text read into the index;
# one over PORTAL_ARCHIVE_DOCUMENT_MAX_BYTES (default 50 MB) is recorded
# too_large and not fetched again; a failed one is tried again by later
# crawls, up to PORTAL_ARCHIVE_DOCUMENT_MAX_TRIES tries.
PORTAL_ARCHIVE_DOCUMENTS = True
PORTAL_ARCHIVE_DOCUMENT_MAX_BYTES = 50 * 1024 * 1024
PORTAL_ARCHIVE_DOCUMENT_MAX_TRIES = 5
# A progress line on stderr every PORTAL_ARCHIVE_PROGRESS_INTERVAL seconds
# (`portal-archive crawl` turns it on and shows it; 0 = off).
PORTAL_ARCHIVE_PROGRESS_INTERVAL = 0

# --- incremental, resumable crawls (spiders/portal.py) -----------------------
#: incremental (skip archived articles, stop paging after KNOWN_PAGES pages with
#: nothing new), resume (skip archived articles, walk listings to the end) or
#: full (fetch everything, revisit archived articles to find deleted ones).
#: auto: the spider chooses when it starts, however it is started (CLI, scrapy
#: crawl, Scrapyd): resume after an interrupted run, else incremental
#: (scraper/crawlstate.py); `portal-archive crawl --full` asks for full.
PORTAL_ARCHIVE_MODE = "auto"
#: Incremental crawls also verify this many archived articles, those seen
#: longest ago (deleted → gone, edited → revision): "auto" (1% of the portal's
#: live articles, at least 50), a number N, or a share "P%"; 0 = off.
PORTAL_ARCHIVE_REVISIT = "auto"
#: Without a JOBDIR setting, keep the crawl queue in <archive folder>/jobs/<portal>/
#: so that a cleanly stopped crawl (Scrapyd's cancel, SIGTERM) resumes from it.
PORTAL_ARCHIVE_JOBDIR = True
PORTAL_ARCHIVE_KNOWN_PAGES = 2
#: In full/resume mode: pages in a row with no new article link before the
#: crawl stops following (endless pagination, calendar traps).
PORTAL_ARCHIVE_TRAP_PAGES = 5


# --- bounds: every crawl ends by itself (scraper/bounds.py, docs/archival.md) --
#: Distinct URLs one run of one portal may schedule (`crawl --max-pages`).
PORTAL_ARCHIVE_MAX_PAGES = 200_000
#: Links away from the start page.
PORTAL_ARCHIVE_MAX_DEPTH = 500
#: A path segment repeated this many times in a row (or more than this in all),
#: or a path of more than MAX_SEGMENTS segments, is a link loop.
PORTAL_ARCHIVE_MAX_REPEAT = 3
PORTAL_ARCHIVE_MAX_SEGMENTS = 25
#: Generic crawls: distinct URLs of one shape (path + query names) that still
#: count as news for the stale-branch rule (PORTAL_ARCHIVE_TRAP_PAGES).
PORTAL_ARCHIVE_SHAPE_PAGES = 200

# --- polite waiting (scraper/middlewares.py) ----------------------------------
#: 429/503: wait Retry-After (at most this many seconds a wait), or back off
#: BACKOFF * 2**n seconds without it, at most RETRY_AFTER_TIMES times; then
#: the ordinary retries (RETRY_TIMES) and a failure.
PORTAL_ARCHIVE_RETRY_AFTER_MAX = 300.0
PORTAL_ARCHIVE_RETRY_AFTER_TIMES = 8
PORTAL_ARCHIVE_BACKOFF = 5.0
#: robots.txt Crawl-delay is obeyed up to this many seconds.
PORTAL_ARCHIVE_MAX_CRAWL_DELAY = 60.0
#: gzip sitemaps and feeds inflate to at most this many bytes.
PORTAL_ARCHIVE_MAX_INFLATE = 32 * 1024 * 1024

# --- honest outcomes (scraper/runner.py) --------------------------------------
#: The crawl fails (exit 1) when more than this share of the article pages it
#: requested were lost after their retries (`crawl --max-lost`).
PORTAL_ARCHIVE_MAX_LOST = 0.05
