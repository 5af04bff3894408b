"""The web UI: a Datasette plugin (hooks in :mod:`archive.web.plugin`), templates and CSS.

``portal-archive serve`` registers this package with Datasette's plugin
manager (see :mod:`archive.web.server`); Datasette finds ``templates/`` and
``static/`` next to it.
"""

from archive.web.plugin import (
    asgi_wrapper,
    extra_css_urls,
    extra_template_vars,
    menu_links,
    prepare_connection,
    register_routes,
    startup,
)

__all__ = ["asgi_wrapper", "extra_css_urls", "extra_template_vars", "menu_links",
           "prepare_connection", "register_routes", "startup"]
