"""Small lxml tree edits the steps share."""

from __future__ import annotations

from lxml.html import HtmlElement


def contains_any(ancestor: HtmlElement, nodes: list[HtmlElement]) -> bool:
    """Whether ``ancestor`` is, or holds, any of ``nodes``."""
    for node in nodes:
        el: HtmlElement | None = node
        while el is not None:
            if el is ancestor:
                return True
            el = el.getparent()
    return False


def drop_element(el: HtmlElement) -> None:
    """Remove ``el`` from its tree, keeping the text that follows it (its tail)."""
    parent = el.getparent()
    if parent is None:
        return
    tail = el.tail
    if tail and tail.strip():
        prev = el.getprevious()
        if prev is not None:
            prev.tail = (prev.tail or "") + tail
        else:
            parent.text = (parent.text or "") + tail
    parent.remove(el)
