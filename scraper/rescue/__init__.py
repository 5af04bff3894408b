"""Recovering a portal's pages from public web archives (no Scrapy).

- :mod:`scraper.rescue.capture`: what an archive's index says about a capture,
  parsed from every answer shape we meet (pure functions), and the choice of
  the best capture per URL;
- :mod:`scraper.rescue.fetcher`: a polite, sequential HTTP client (rate limit,
  back-off on 429/503) and the resume state of a rescue;
- :mod:`scraper.rescue.wayback`: a CDX server (the Wayback Machine, pywb or any
  compatible one) and its ``id_`` replay of the raw bytes;
- :mod:`scraper.rescue.commoncrawl`: Common Crawl's index and its WARC records
  fetched by byte range.
"""
