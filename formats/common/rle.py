"""COCO run-length masks (``iscrowd: 1`` as CVAT exports them, and pycocotools' compressed counts strings)
turned into the polygon Loupe's shapes are: decoded with numpy (pycocotools is no runtime dependency), then
the outline of the largest 4-connected piece traced along pixel edges.

A mask is ``{"size": [height, width], "counts": [...] | "..."}``: alternating runs of 0s and 1s, starting
with 0s, over the pixels in column-major order. The outline runs along pixel edges (pixel (r, c) covers
[c, c+1] × [r, r+1]), so a mask that came from a polygon gives its polygon back to within a pixel. Holes
and smaller pieces are left out: a polygon has neither (``pieces`` and ``holes`` say how many were).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# A mask's counts are read and its outline traced in Python, one step per run and per pixel edge: bound the
# work a forged or noisy mask costs (an object with a 4,000-pixel outline has about 8,000 edges).
MAX_OUTLINE_EDGES = 200_000
MAX_RUNS = MAX_OUTLINE_EDGES   # each run of 1s has at least a top and a bottom edge


class MaskError(ValueError):
    """A mask that cannot be read or outlined; the message says why."""


@dataclass(frozen=True)
class MaskOutline:
    polygon: list[list[float]]   # the largest piece's outer boundary, in pixel-edge coordinates
    pieces: int                  # 4-connected pieces of the mask (only the largest is outlined)
    holes: int
    pixels: int                  # pixels the decoded window held (the caller bounds the total)
    runs: int
    edges: int


def counts_from_string(text: str, max_runs: int = MAX_RUNS) -> list[int]:
    """pycocotools' compressed counts: 5 bits a character (offset 48), 0x20 says more follow, the last
    character's 0x10 is the sign, and from the third run on each is stored as its difference from the
    run two before. More than ``max_runs`` runs are refused as soon as they are seen."""
    counts: list[int] = []
    position = 0
    while position < len(text):
        if len(counts) >= max_runs:
            raise _too_many_runs(max_runs)
        value, shift, more = 0, 0, True
        while more:
            if position >= len(text):
                raise MaskError("the compressed counts end in the middle of a number")
            code = ord(text[position]) - 48
            if not 0 <= code < 64:
                raise MaskError(f"the compressed counts hold {text[position]!r}, which no count is written with")
            value |= (code & 0x1F) << shift
            more = bool(code & 0x20)
            position += 1
            shift += 5
            if not more and code & 0x10:
                value |= -1 << shift
        if len(counts) > 2:
            value += counts[-2]
        counts.append(value)
    return counts


def decode(counts: list[int], height: int, width: int, max_pixels: int) -> tuple[np.ndarray, int, int]:
    """(mask, top, left): the mask cropped to the rows and columns its 1s reach, and where that window lies;
    a window over ``max_pixels`` is refused before it is made."""
    if any(c < 0 for c in counts):
        raise MaskError("a run of the counts is negative")
    if sum(counts) != height * width:
        raise MaskError(f"the counts cover {sum(counts)} pixels; a {width}×{height} mask has {height * width}")
    ends = np.cumsum(np.asarray(counts, dtype=np.int64))
    starts = ends - np.asarray(counts, dtype=np.int64)
    on = [(s, e) for s, e in zip(starts[1::2].tolist(), ends[1::2].tolist()) if e > s]
    if not on:
        raise MaskError("the mask is empty")
    first_col, last_col = on[0][0] // height, (on[-1][1] - 1) // height
    if (last_col - first_col + 1) * height > max_pixels:
        raise MaskError(f"the mask spans {(last_col - first_col + 1) * height:,} pixels; at most {max_pixels:,} "
                        "are decoded")
    flat = np.zeros((last_col - first_col + 1) * height, dtype=bool)
    offset = first_col * height
    for s, e in on:
        flat[s - offset:e - offset] = True
    window = flat.reshape(-1, height).T          # column-major runs: rows are the fast index
    rows = np.flatnonzero(window.any(axis=1))
    return window[rows[0]:rows[-1] + 1], int(rows[0]), first_col


# Directions along an edge, in image coordinates (x right, y down); turning right is index + 1.
_STEPS = ((1, 0), (0, 1), (-1, 0), (0, -1))


def _edges(mask: np.ndarray, max_edges: int) -> dict[tuple[int, int], list[int]]:
    """Each boundary edge as {start vertex: [direction, ...]}, walked with the mask on its right."""
    padded = np.pad(mask, 1)
    inner = padded[1:-1, 1:-1]
    # (pixels whose neighbour on that side is empty, start corner (dx, dy) of the edge in the pixel, direction)
    sides = ((inner & ~padded[:-2, 1:-1], (0, 0), 0),     # top edge, walked right
             (inner & ~padded[1:-1, 2:], (1, 0), 1),      # right edge, walked down
             (inner & ~padded[2:, 1:-1], (1, 1), 2),      # bottom edge, walked left
             (inner & ~padded[1:-1, :-2], (0, 1), 3))     # left edge, walked up
    total = sum(int(side.sum()) for side, _, _ in sides)
    if total > max_edges:
        raise MaskError(f"the mask's outlines run over {total:,} pixel edges (at most {max_edges:,}: a noisy or "
                        "scattered mask); send polygons")
    out: dict[tuple[int, int], list[int]] = {}
    for side, (dx, dy), direction in sides:
        rows, cols = np.nonzero(side)
        for r, c in zip(rows.tolist(), cols.tolist()):
            out.setdefault((c + dx, r + dy), []).append(direction)
    return out


def _loops(edges: dict[tuple[int, int], list[int]]) -> list[list[tuple[int, int]]]:
    """The closed outlines, each as its corner vertices. Where two pieces touch at a corner the walk turns
    right, keeping to its own piece (4-connectivity); each edge then has exactly one successor."""
    loops = []
    while edges:
        start = next(iter(edges))
        first = edges[start].pop(0)
        if not edges[start]:
            del edges[start]
        path = [(start, first)]
        vertex, direction = _step(start, first), first
        while True:
            choices = edges.get(vertex, [])
            options = choices + ([first] if vertex == start else [])
            if not options:
                raise MaskError("the mask's outline does not close")   # cannot happen for a pixel mask
            chosen = min(options, key=lambda d: (direction + 1 - d) % 4)   # right, straight, left
            if vertex == start and chosen == first and first not in choices:
                break
            choices.remove(chosen)
            if not choices:
                del edges[vertex]
            path.append((vertex, chosen))
            vertex, direction = _step(vertex, chosen), chosen
        loops.append([v for k, (v, d) in enumerate(path) if d != path[k - 1][1]])
    return loops


def _step(vertex: tuple[int, int], direction: int) -> tuple[int, int]:
    dx, dy = _STEPS[direction]
    return vertex[0] + dx, vertex[1] + dy


def _signed_area(points: list[tuple[int, int]]) -> float:
    n = len(points)
    return 0.5 * sum(points[k][0] * points[(k + 1) % n][1] - points[(k + 1) % n][0] * points[k][1]
                     for k in range(n))


def _too_many_runs(max_runs: int) -> MaskError:
    return MaskError(f"the mask has more than {max_runs:,} runs (a noisy or scattered mask); send polygons")


def outline(counts: list[int] | str, height: int, width: int, max_pixels: int = 1 << 28,
            max_runs: int = MAX_RUNS, max_edges: int = MAX_OUTLINE_EDGES) -> MaskOutline:
    """The outline of a run-length mask of ``height`` × ``width`` pixels (decoding at most ``max_pixels``
    and ``max_runs``, tracing at most ``max_edges``); ``MaskError`` says why not."""
    max_runs, max_edges = min(max_runs, MAX_RUNS), min(max_edges, MAX_OUTLINE_EDGES)
    if isinstance(counts, str):
        counts = counts_from_string(counts, max_runs)
    elif len(counts) > max_runs:
        raise _too_many_runs(max_runs)
    mask, top, left = decode(counts, height, width, max_pixels)
    edges = _edges(mask, max_edges)
    traced = sum(len(v) for v in edges.values())
    loops = _loops(edges)
    areas = [_signed_area(loop) for loop in loops]
    outer = [k for k, a in enumerate(areas) if a > 0]   # walked with the mask on the right: outer boundaries
    best = max(outer, key=lambda k: areas[k])
    polygon = [[float(x + left), float(y + top)] for x, y in loops[best]]
    return MaskOutline(polygon, len(outer), len(loops) - len(outer), int(mask.size), len(counts), traced)
