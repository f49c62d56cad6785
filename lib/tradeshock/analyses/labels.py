"""Point labels that do not overlap: a small greedy placement for scatter plots.

:func:`place_labels` works in display units (pixels): for each point, in the order given, it tries
label positions around the point at growing distances (right, left, above, below and the four
diagonals) and keeps the first whose box overlaps no label already placed, no marker and stays
inside ``bounds``; when none is free it keeps the position with the least overlap. It is pure and
tested on synthetic layouts. :func:`annotate_points` measures the texts on a matplotlib axes,
places them with :func:`place_labels` and draws them (a thin leader line when a label sits away
from its point), then freezes the figure's layout so that the pixel positions stay valid.

Imports: nothing of tradeshock (matplotlib only inside :func:`annotate_points`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = ["Box", "overlap", "place_labels", "annotate_points", "label_boxes"]

#: A box ``(x0, y0, x1, y1)`` in pixels, ``x0 <= x1`` and ``y0 <= y1``.
Box = tuple[float, float, float, float]

#: Unit directions tried at each distance: right, left, up, down, then the diagonals.
_DIRECTIONS = ((1, 0), (-1, 0), (0, 1), (0, -1), (1, 1), (-1, 1), (1, -1), (-1, -1))


def overlap(a: Box, b: Box) -> float:
    """Area (pixels²) shared by boxes ``a`` and ``b``; 0 when they only touch or are apart."""
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    return w * h if w > 0 and h > 0 else 0.0


def _box_at(x: float, y: float, w: float, h: float, d: tuple[int, int], r: float) -> Box:
    """The ``w`` x ``h`` box ``r`` pixels from point ``(x, y)`` in direction ``d``."""
    dx, dy = d
    x0 = x + r if dx > 0 else (x - r - w if dx < 0 else x - w / 2)
    y0 = y + r if dy > 0 else (y - r - h if dy < 0 else y - h / 2)
    return (x0, y0, x0 + w, y0 + h)


def _outside(box: Box, bounds: Box | None) -> float:
    if bounds is None:
        return 0.0
    inside = overlap(box, bounds)
    return (box[2] - box[0]) * (box[3] - box[1]) - inside


def place_labels(points: Sequence[tuple[float, float]], sizes: Sequence[tuple[float, float]], *,
                 marker: float = 4.0, gap: float = 3.0, steps: int = 12, step: float = 6.0,
                 bounds: Box | None = None) -> list[Box]:
    """Boxes (pixels) for the labels of ``points``, each of ``sizes[i] = (width, height)``.

    ``marker`` is the half-size of each point's marker (labels keep clear of every marker),
    ``gap`` the distance of the nearest position from the marker, ``steps`` how many growing
    distances (``marker + gap + k * step``) are tried, ``bounds`` the area labels must stay
    inside (the axes). Greedy, in the order given: returns one box per point, none overlapping another
    unless no free position exists within ``marker + gap + steps * step`` pixels.
    """
    if len(points) != len(sizes):
        raise ValueError(f"place_labels: {len(points)} points but {len(sizes)} sizes")
    markers = [(x - marker, y - marker, x + marker, y + marker) for x, y in points]
    placed: list[Box] = []
    for (x, y), (w, h) in zip(points, sizes):
        best, best_cost = None, float("inf")
        for k in range(steps + 1):
            r = marker + gap + k * step
            for d in _DIRECTIONS:
                box = _box_at(x, y, w, h, d, r)
                cost = (sum(overlap(box, b) for b in placed)
                        + sum(overlap(box, m) for m in markers) + _outside(box, bounds))
                if cost < best_cost:
                    best, best_cost = box, cost
                if cost == 0:
                    break
            if best_cost == 0:
                break
        placed.append(best)  # type: ignore[arg-type]
    return placed


def annotate_points(ax: Any, xs: Sequence[float], ys: Sequence[float], texts: Sequence[str], *,
                    fontsize: float = 7.5, color: str = "#333333") -> list[Any]:
    """Label each point ``(xs[i], ys[i])`` (data units) of ``ax`` with ``texts[i]`` so that no
    two labels overlap (see :func:`place_labels`); returns the annotation artists. The figure's
    layout engine is run once and then frozen, so call it after everything else is drawn on the
    axes (the source line may come after: it sits below the figure)."""
    fig = ax.figure
    fig.canvas.draw()  # run the layout: display coordinates are final from here
    renderer = fig.canvas.get_renderer()
    fig.set_layout_engine("none")
    sizes = []
    for t in texts:
        probe = ax.text(0, 0, str(t), fontsize=fontsize)
        ext = probe.get_window_extent(renderer)
        sizes.append((ext.width, ext.height))
        probe.remove()
    pts = [tuple(ax.transData.transform((float(x), float(y)))) for x, y in zip(xs, ys)]
    bb = ax.get_window_extent(renderer)
    boxes = place_labels(pts, sizes, bounds=(bb.x0, bb.y0, bb.x1, bb.y1),
                         marker=0.5 * fontsize * fig.dpi / 72)
    to_points = 72.0 / fig.dpi
    out = []
    for x, y, (px, py), box, t in zip(xs, ys, pts, boxes, texts):
        dx, dy = max(box[0] - px, 0, px - box[2]), max(box[1] - py, 0, py - box[3])
        far = (dx * dx + dy * dy) ** 0.5 > 10
        ann = ax.annotate(str(t), (float(x), float(y)), xycoords="data",
                          xytext=((box[0] - px) * to_points, (box[1] - py) * to_points),
                          textcoords="offset points", ha="left", va="bottom", fontsize=fontsize,
                          color=color, annotation_clip=False,
                          arrowprops={"arrowstyle": "-", "lw": 0.5, "color": "#9e9e9e",
                                      "shrinkA": 0, "shrinkB": 2} if far else None)
        ann.set_in_layout(False)
        out.append(ann)
    return out


def label_boxes(annotations: Sequence[Any]) -> list[Box]:
    """The drawn text boxes (pixels) of annotation artists (leader lines left out), to check
    that none overlap."""
    from matplotlib.text import Text

    fig = annotations[0].figure if annotations else None
    if fig is None:
        return []
    fig.canvas.draw()
    r = fig.canvas.get_renderer()
    out = []
    for a in annotations:
        e = Text.get_window_extent(a, r)
        out.append((e.x0, e.y0, e.x1, e.y1))
    return out
