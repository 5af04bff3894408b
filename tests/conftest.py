"""What every test module shares.

The builders (articles, small archives, the demo portal crawled, servers on
free ports, the CLI in-process) live in ``tests/factories.py``, the raw row
reader in ``tests/dbrows.py``; test modules import them by name
(``from factories import make_archive``). This folder is put on ``sys.path``
here so that those imports work whatever pytest's import mode, and from test
modules in the layer folders: ``core/`` (model, extraction, families),
``storage/``, ``access/`` (search, export, web, the demo portal), ``runtime/``
(the crawl) and ``cli/``; ``test_architecture.py`` states the layers.
"""

from __future__ import annotations

import sys
from pathlib import Path

TESTS = str(Path(__file__).resolve().parent)
if TESTS not in sys.path:
    sys.path.insert(0, TESTS)
