"""Server-rendered SVG bar charts: no JavaScript, labelled for screen readers (role="img", title, desc),
always shown next to the table of the same figures."""

from __future__ import annotations

from markupsafe import Markup, escape


def bar_chart(title: str, data: list[tuple[str, int]], element_id: str, width: int = 640) -> Markup:
    label_w, bar_h, gap = 220, 22, 8
    height = max(1, len(data)) * (bar_h + gap) + gap
    top = max((v for _l, v in data), default=0) or 1
    desc = "; ".join(f"{label} : {value}" for label, value in data) or "aucune donnée"
    parts = [
        f'<svg id="{escape(element_id)}" class="chart" role="img" viewBox="0 0 {width} {height}" '
        f'width="100%" aria-labelledby="{escape(element_id)}-t {escape(element_id)}-d" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{escape(element_id)}-t">{escape(title)}</title>',
        f'<desc id="{escape(element_id)}-d">{escape(desc)}</desc>',
    ]
    span = width - label_w - 60
    for i, (label, value) in enumerate(data):
        y = gap + i * (bar_h + gap)
        w = round(span * value / top)
        parts.append(
            f'<g><text x="{label_w - 6}" y="{y + bar_h * 0.7:.0f}" text-anchor="end" font-size="13">'
            f"{escape(label)}</text>"
            f'<rect x="{label_w}" y="{y}" width="{w}" height="{bar_h}" fill="#00607a">'
            f"<title>{escape(label)} : {value}</title></rect>"
            f'<text x="{label_w + w + 6}" y="{y + bar_h * 0.7:.0f}" font-size="13">{value}</text></g>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 (every interpolated text is escaped above)
