"""portals.toml and the layout-family registry agree: the loader accepts every
family, rejects any other layout in one line, and the file's header documents
exactly the registry's families."""

from __future__ import annotations

from pathlib import Path

import pytest

from scraper.families import families, family_names
from scraper.portals import DEFAULT_PORTALS_FILE, PortalConfigError, load_portals


def _portal_file(tmp_path: Path, layout: str) -> Path:
    file = tmp_path / "portals.toml"
    file.write_text(f'[[portal]]\nid = "p"\nname = "P"\nbase_url = "https://p.gov.vn/"\n'
                    f'layout = "{layout}"\n', encoding="utf-8")
    return file


def header_layouts() -> str:
    """The layout lines portals.toml's header must carry, from the registry."""
    width = max(len(name) for name in family_names()) + 2
    return "".join(f'#               {f"{chr(34)}{f.name}{chr(34)}":<{width}}  {f.description}\n'
                   for f in families().values())


def test_header_documents_exactly_the_registry_families() -> None:
    text = DEFAULT_PORTALS_FILE.read_text(encoding="utf-8")
    header = text[:text.index("[[portal]]")]
    documented = [line.split('"')[1] for line in header.splitlines()
                  if line.startswith("#               \"")]
    assert documented == list(family_names()), \
        f"portals.toml's header should list the layouts as:\n{header_layouts()}"
    assert header_layouts() in header, \
        f"portals.toml's header should list the layouts as:\n{header_layouts()}"


@pytest.mark.parametrize("layout", family_names())
def test_loader_accepts_every_family(tmp_path: Path, layout: str) -> None:
    assert load_portals(_portal_file(tmp_path, layout))["p"].layout == layout


def test_every_family_but_generic_has_a_profile() -> None:
    assert "generic" in family_names()
    assert [f.name for f in families().values() if f.profile is None] == ["generic"]


def test_unknown_layout_is_one_line_naming_the_known_ones(tmp_path: Path) -> None:
    with pytest.raises(PortalConfigError) as info:
        load_portals(_portal_file(tmp_path, "joomla"))
    message = str(info.value)
    assert "\n" not in message and "'joomla'" in message
    assert message.endswith(f"(known: {', '.join(family_names())})")


def test_the_shipped_portals_load() -> None:
    portals = load_portals()
    assert portals and {p.layout for p in portals.values()} <= set(family_names())
