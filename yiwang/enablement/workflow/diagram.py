"""An SVG picture of a BPMN document from its BPMNDI (for flows drawn in Camunda Modeler)."""

from __future__ import annotations

from html import escape

from yiwang.enablement.workflow import xmlsafe

_BPMN = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"
_DI = "{http://www.omg.org/spec/BPMN/20100524/DI}"
_DC = "{http://www.omg.org/spec/DD/20100524/DC}"
_DDI = "{http://www.omg.org/spec/DD/20100524/DI}"
_MAX_ELEMENTS = 2000


def svg_from_bpmn(xml: str) -> str:
    """An accessible inline SVG of the diagram, or ``""`` when the file has no layout."""
    try:
        root = xmlsafe.parse(xml)
    except ValueError:
        return ""
    elements = {el.get("id"): el for el in root.iter() if isinstance(el.tag, str) and el.get("id")}
    shapes: list[str] = []
    edges: list[str] = []
    max_x = max_y = 0.0
    for n, shape in enumerate(root.iter(f"{_DI}BPMNShape")):
        if n > _MAX_ELEMENTS:
            break
        bounds = shape.find(f"{_DC}Bounds")
        el = elements.get(shape.get("bpmnElement"))
        if bounds is None or el is None:
            continue
        try:
            x, y, w, h = (float(bounds.get(k) or 0) for k in ("x", "y", "width", "height"))
        except ValueError:
            continue
        max_x, max_y = max(max_x, x + w), max(max_y, y + h)
        kind = el.tag.replace(_BPMN, "")
        name = escape(el.get("name") or "")
        if kind.endswith("Event"):
            r = w / 2
            stroke = 3 if kind == "endEvent" else 1.5
            dash = ' stroke-dasharray="4 3"' if el.get("cancelActivity") == "false" else ""
            shapes.append(
                f'<circle cx="{x + r:.0f}" cy="{y + r:.0f}" r="{r:.0f}" class="wf-event" '
                f'stroke-width="{stroke}"{dash}/>'
            )
            if name:
                shapes.append(
                    f'<text x="{x + r:.0f}" y="{y + h + 14:.0f}" class="wf-label">{name}</text>'
                )
        elif kind.endswith("Gateway"):
            cx, cy = x + w / 2, y + h / 2
            shapes.append(
                f'<polygon points="{cx:.0f},{y:.0f} {x + w:.0f},{cy:.0f} {cx:.0f},{y + h:.0f} '
                f'{x:.0f},{cy:.0f}" class="wf-gateway"/>'
            )
            mark = "+" if kind == "parallelGateway" else "×"
            shapes.append(f'<text x="{cx:.0f}" y="{cy + 6:.0f}" class="wf-mark">{mark}</text>')
            if name:
                shapes.append(f'<text x="{cx:.0f}" y="{y - 6:.0f}" class="wf-label">{name}</text>')
        else:
            shapes.append(
                f'<rect x="{x:.0f}" y="{y:.0f}" width="{w:.0f}" height="{h:.0f}" rx="8" '
                f'class="wf-task"/>'
            )
            shapes.append(
                f'<text x="{x + w / 2:.0f}" y="{y + h / 2 + 5:.0f}" class="wf-label">{name}</text>'
            )
    for n, edge in enumerate(root.iter(f"{_DI}BPMNEdge")):
        if n > _MAX_ELEMENTS:
            break
        points = []
        for wp in edge.iter(f"{_DDI}waypoint"):
            try:
                points.append(f"{float(wp.get('x') or 0):.0f},{float(wp.get('y') or 0):.0f}")
            except ValueError:
                continue
        if len(points) >= 2:
            edges.append(
                f'<polyline points="{" ".join(points)}" class="wf-flow" '
                'marker-end="url(#wf-arrow)"/>'
            )
    if not shapes:
        return ""
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" class="wf-diagram" '
        f'viewBox="0 0 {max_x + 40:.0f} {max_y + 40:.0f}" width="{max_x + 40:.0f}" '
        f'aria-label="BPMN">'
        '<defs><marker id="wf-arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto-start-reverse">'
        '<path d="M0,0 L10,5 L0,10 z"/></marker></defs>'
        + "".join(edges)
        + "".join(shapes)
        + "</svg>"
    )
