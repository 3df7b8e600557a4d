"""Server-rendered SVG bar charts: no JavaScript, labelled for screen readers (role="img", title, desc),
always shown next to the table of the same figures."""

from __future__ import annotations

from markupsafe import Markup, escape


def bar_chart(title: str, data: list[tuple[str, int]], element_id: str, width: int = 360) -> Markup:
    """Each bar under its label, in a drawing 360 units wide shown at its natural size: 14 px text on a phone."""
    label_h, bar_h, gap = 18, 16, 10
    row = label_h + bar_h + gap
    height = max(1, len(data)) * row + gap
    top = max((v for _l, v in data), default=0) or 1
    desc = "; ".join(f"{label} : {value}" for label, value in data) or "aucune donnée"
    parts = [
        f'<svg id="{escape(element_id)}" class="chart" role="img" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" aria-labelledby="{escape(element_id)}-t {escape(element_id)}-d" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{escape(element_id)}-t">{escape(title)}</title>',
        f'<desc id="{escape(element_id)}-d">{escape(desc)}</desc>',
    ]
    span = width - 60
    for i, (label, value) in enumerate(data):
        y = gap + i * row
        w = round(span * value / top)
        parts.append(
            f'<g><text x="4" y="{y + 13}" font-size="14">{escape(label)}</text>'
            f'<rect x="4" y="{y + label_h}" width="{w}" height="{bar_h}" fill="#0b5d66">'
            f"<title>{escape(label)} : {value}</title></rect>"
            f'<text x="{w + 10}" y="{y + label_h + 13}" font-size="14">{value}</text></g>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 (every interpolated text is escaped above)
