"""For `scrapyd-deploy`, which builds its egg with `python setup.py bdist_egg`.

Everything (name, packages, data files, the ``scrapy`` settings entry point)
is declared in pyproject.toml.
"""

from setuptools import setup

setup()
