"""Articles per month per portal as an inline SVG line chart (no JavaScript, no CDN)."""

from __future__ import annotations

from html import escape

#: Line colours, one per portal (colour-blind-friendly Okabe–Ito palette).
COLOURS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000",
           "#F0E442")
WIDTH, HEIGHT = 760, 260
LEFT, RIGHT, TOP, BOTTOM = 48, 12, 12, 52


def _month_index(month: str) -> int:
    year, mon = month.split("-")
    return int(year) * 12 + int(mon) - 1


def _month_label(index: int) -> str:
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def monthly_chart(rows: list[tuple[str, str, int]], *, title: str = "Articles per month") -> str:
    """An ``<svg>`` of ``(portal_id, "YYYY-MM", count)`` rows: one line per portal.

    Months without articles count as zero. Every text is escaped; the result
    is safe to embed in HTML. Returns a short note when there is nothing to draw.
    """
    data: dict[str, dict[int, int]] = {}
    for portal, month, count in rows:
        try:
            idx = _month_index(month)
        except ValueError:
            continue
        data.setdefault(portal, {})[idx] = data.get(portal, {}).get(idx, 0) + count
    if not data:
        return '<p class="pa-chart-empty">No dated articles to chart.</p>'
    first = min(min(d) for d in data.values())
    last = max(max(d) for d in data.values())
    top = max(max(d.values()) for d in data.values())
    span = max(1, last - first)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(idx: int) -> float:
        return LEFT + (idx - first) / span * plot_w

    def y(value: int) -> float:
        return TOP + plot_h - value / top * plot_h

    parts = [
        f'<svg class="pa-chart" role="img" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'xmlns="http://www.w3.org/2000/svg" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
        f'<line x1="{LEFT}" y1="{TOP + plot_h}" x2="{WIDTH - RIGHT}" y2="{TOP + plot_h}" '
        f'stroke="#888"/>',
        f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{TOP + plot_h}" stroke="#888"/>',
    ]
    for value in sorted({0, top // 2, top}):
        parts.append(f'<text x="{LEFT - 6}" y="{y(value) + 4:.1f}" text-anchor="end" '
                     f'font-size="11">{value}</text>')
    # A tick per year (or every few years on long spans).
    years = range(first // 12, last // 12 + 1)
    step = max(1, len(years) // 12)
    for year in years[::step]:
        idx = max(first, year * 12)
        parts.append(f'<line x1="{x(idx):.1f}" y1="{TOP + plot_h}" x2="{x(idx):.1f}" '
                     f'y2="{TOP + plot_h + 4}" stroke="#888"/>')
        parts.append(f'<text x="{x(idx):.1f}" y="{TOP + plot_h + 16}" text-anchor="middle" '
                     f'font-size="11">{year}</text>')
    for k, (portal, months) in enumerate(sorted(data.items())):
        colour = COLOURS[k % len(COLOURS)]
        points = " ".join(f"{x(i):.1f},{y(months.get(i, 0)):.1f}" for i in range(first, last + 1))
        parts.append(f'<polyline fill="none" stroke="{colour}" stroke-width="1.5" '
                     f'points="{points}" data-portal="{escape(portal)}">'
                     f"<title>{escape(portal)}: {sum(months.values())} articles, "
                     f"{_month_label(first)} – {_month_label(last)}</title></polyline>")
        lx = LEFT + (k % 4) * 180
        ly = HEIGHT - 14 - (k // 4) * 14
        parts.append(f'<rect x="{lx}" y="{ly - 9}" width="12" height="4" fill="{colour}"/>')
        parts.append(f'<text x="{lx + 16}" y="{ly - 4}" font-size="11">{escape(portal)}</text>')
    parts.append("</svg>")
    return "".join(parts)
