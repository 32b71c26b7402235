"""The outcome report's charts as SVG, drawn on the server from its figures: no outside asset.

Three charts for the reports page: the deflection rate by program (bars), its
weekly trend (a line), and the funnel call → on scene → handoff accepted →
follow-up done (bars). A suppressed cell is drawn as an empty outlined bar
labelled "suppressed", never as zero. Each chart also lists the figures it
draws (``chart_figures``), which is what its CSV download holds.
"""

import xml.etree.ElementTree as ET
from collections.abc import Callable
from typing import Literal

from services.dispatch.domain.outcomes import ALL, Figure

SVG_NS = "http://www.w3.org/2000/svg"
SVG_MEDIA_TYPE = "image/svg+xml"
ChartName = Literal["deflection-by-program", "deflection-trend", "funnel"]
WIDTH, ROW, LEFT, TOP = 640, 34, 170, 40
BAR = "#2f6f9f"


def _pick(figures: list[Figure], chart: ChartName) -> list[Figure]:
    if chart == "deflection-by-program":
        return [
            f
            for f in figures
            if f.section == "deflection"
            and f.name == "deflection_rate"
            and f.week == ALL
            and f.program != ALL
        ]
    if chart == "deflection-trend":
        return [
            f
            for f in figures
            if f.section == "deflection"
            and f.name == "deflection_rate"
            and f.program == ALL
            and f.week != ALL
        ]
    wanted = [
        ("calls", "incidents"),
        ("speed", "call_to_on_scene_n"),
        ("speed", "call_to_handoff_accepted_n"),
        ("follow_ups", "done_within_72h"),
    ]
    by_key = {(f.section, f.name): f for f in figures if f.program == ALL and f.week == ALL}
    return [by_key[key] for key in wanted if key in by_key]


def chart_figures(figures: list[Figure], chart: ChartName) -> list[Figure]:
    """The figures a chart draws, in its order."""
    return _pick(figures, chart)


def _svg(title: str, height: int) -> ET.Element:
    ET.register_namespace("", SVG_NS)
    root = ET.Element(
        f"{{{SVG_NS}}}svg",
        {
            "width": str(WIDTH),
            "height": str(height),
            "viewBox": f"0 0 {WIDTH} {height}",
            "role": "img",
            "font-family": "system-ui, sans-serif",
            "font-size": "13",
        },
    )
    ET.SubElement(root, f"{{{SVG_NS}}}title").text = title
    heading = ET.SubElement(root, f"{{{SVG_NS}}}text", {"x": "8", "y": "22", "font-weight": "bold"})
    heading.text = title
    return root


def _label(root: ET.Element, x: float, y: float, text: str, anchor: str = "start") -> None:
    element = ET.SubElement(
        root, f"{{{SVG_NS}}}text", {"x": f"{x:g}", "y": f"{y:g}", "text-anchor": anchor}
    )
    element.text = text


def _bars(
    title: str, rows: list[tuple[str, Figure]], scale: float, shown: Callable[[Figure], str]
) -> bytes:
    height = TOP + ROW * max(len(rows), 1) + 10
    root = _svg(title, height)
    span = WIDTH - LEFT - 90
    if not rows:
        _label(root, LEFT, TOP + 20, "no data in this period")
    for i, (name, figure) in enumerate(rows):
        y = TOP + i * ROW
        _label(root, LEFT - 8, y + 18, name, "end")
        if figure.value is None:
            ET.SubElement(
                root,
                f"{{{SVG_NS}}}rect",
                {"x": str(LEFT), "y": str(y + 4), "width": str(span), "height": "20",
                 "fill": "none", "stroke": "#999", "stroke-dasharray": "4 3"},
            )  # fmt: skip
            _label(root, LEFT + 8, y + 18, "suppressed" if figure.suppressed else "no data")
            continue
        width = 0.0 if scale == 0 else span * float(figure.value) / scale
        ET.SubElement(
            root,
            f"{{{SVG_NS}}}rect",
            {"x": str(LEFT), "y": str(y + 4), "width": f"{width:.1f}", "height": "20",
             "fill": BAR},
        )  # fmt: skip
        _label(root, LEFT + width + 6, y + 18, shown(figure))
    return _bytes(root)


def _bytes(root: ET.Element) -> bytes:
    xml: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return xml


def _percent(figure: Figure) -> str:
    return f"{float(figure.value or 0) * 100:.0f}%"


def _trend(figures: list[Figure]) -> bytes:
    height = 260
    root = _svg("Deflection rate by ISO week (all programs)", height)
    left, right, top, bottom = 60, WIDTH - 20, 40, height - 40
    ET.SubElement(
        root,
        f"{{{SVG_NS}}}polyline",
        {"points": f"{left},{top} {left},{bottom} {right},{bottom}", "fill": "none",
         "stroke": "#666"},
    )  # fmt: skip
    _label(root, left - 6, top + 4, "100%", "end")
    _label(root, left - 6, bottom, "0%", "end")
    if not figures:
        _label(root, left + 10, top + 40, "no data in this period")
        return _bytes(root)
    step = (right - left) / max(len(figures) - 1, 1)
    points = []
    for i, figure in enumerate(figures):
        x = left + (step * i if len(figures) > 1 else (right - left) / 2)
        _label(root, x, bottom + 18, figure.week, "middle")
        if figure.value is None:
            _label(root, x, bottom - 8, "suppressed" if figure.suppressed else "-", "middle")
            continue
        y = bottom - (bottom - top) * float(figure.value)
        points.append(f"{x:.1f},{y:.1f}")
        ET.SubElement(
            root, f"{{{SVG_NS}}}circle", {"cx": f"{x:.1f}", "cy": f"{y:.1f}", "r": "4",
                                          "fill": BAR},
        )  # fmt: skip
        _label(root, x, y - 8, _percent(figure), "middle")
    if len(points) > 1:
        ET.SubElement(
            root,
            f"{{{SVG_NS}}}polyline",
            {"points": " ".join(points), "fill": "none", "stroke": BAR, "stroke-width": "2"},
        )
    return _bytes(root)


FUNNEL_NAMES = {
    "incidents": "calls",
    "call_to_on_scene_n": "on scene",
    "call_to_handoff_accepted_n": "handoff accepted",
    "done_within_72h": "follow-up done (72 h)",
}


def render(figures: list[Figure], chart: ChartName) -> bytes:
    """One chart of the report as an SVG document."""
    picked = _pick(figures, chart)
    if chart == "deflection-by-program":
        rows = [(f.program.replace("_", " "), f) for f in picked]
        return _bars("Deflection rate by program", rows, 1.0, _percent)
    if chart == "deflection-trend":
        return _trend(picked)
    top = max((float(f.value) for f in picked if f.value is not None), default=0.0)
    rows = [(FUNNEL_NAMES[f.name], f) for f in picked]
    return _bars("From call to follow-up", rows, top, lambda f: f"{f.value}")
