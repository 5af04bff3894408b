"""The demo portal: a local HTTP server imitating a Thanh Hóa district news portal.

* :mod:`scraper.demo.site` — :class:`DemoSite`, the deterministic, lazily
  generated content (articles, categories, the two real seed articles) and
  :meth:`DemoArticle.to_article`, the expected extraction result;
* :mod:`scraper.demo.layouts` — layout families (template folder + URL scheme);
* :mod:`scraper.demo.render` — template contexts and rendering;
* :mod:`scraper.demo.app` — request → response, hit counters, fault-mode seam;
* :mod:`scraper.demo.server` — :class:`DemoServer` on 127.0.0.1;
* ``python -m scraper.demo serve`` — the same from the command line.

This package never imports Scrapy.
"""

from scraper.demo.layouts import LAYOUTS, Layout, UrlScheme
from scraper.demo.server import DemoServer
from scraper.demo.site import DemoArticle, DemoSite, Headline, NotFound

__all__ = ["LAYOUTS", "DemoArticle", "DemoServer", "DemoSite", "Headline", "Layout", "NotFound",
           "UrlScheme"]
