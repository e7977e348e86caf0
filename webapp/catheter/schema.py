"""Catheter annotations: a verdict for the balloon and its defects on every shot of the series.

    {"verdict": "ok" | "defect",
     "shots": [{"defects": [{"type": "axial_scratch",
                             "box": [x0, y0, x1, y1],          # always: the shape's bounding box
                             "polygon": [[x, y], ...]          # at most one of polygon (>= 3 points),
                             | "polyline": [[x, y], ...]       #   polyline (>= 2 points, e.g. a scratch)
                             | "point": [x, y],                #   or point (an inclusion, a bubble)
                             "id": "d1"}]}]}                   # optional: the same defect across shots

One entry in ``shots`` per image of the item, in order; coordinates in original image pixels (finite
numbers inside the image). The shape lies inside its box (within ``BOX_SLACK`` pixels, for rounding).
"""
from webapp.labeling.kinds import AssetDims, Checker

DEFECT_TYPES = ("axial_scratch", "radial_scratch", "inclusion", "bubble")
VERDICTS = ("ok", "defect")
SHAPES = ("polygon", "polyline", "point")
MAX_ID_LENGTH = 64
BOX_SLACK = 1.0


def _polyline(c: Checker, value, dims: AssetDims, path: str) -> list[list[float]] | None:
    points = c.lst(value, path)
    if points is None:
        return None
    if len(points) < 2:
        c.fail(path, "a polyline needs at least 2 points")
        return None
    out = [c.point(p, dims, f"{path}[{i}]") for i, p in enumerate(points)]
    if any(p is None for p in out):
        return None
    if len(set(out)) < 2:
        c.fail(path, "the polyline has no length (all its points are the same)")
        return None
    return [list(p) for p in out]


def _shape(c: Checker, d: dict, dims: AssetDims, path: str) -> tuple[str, object] | None:
    """The defect's one optional shape as (key, clean value); problems recorded on ``c``."""
    given = [k for k in SHAPES if d.get(k) is not None]
    if len(given) > 1:
        c.fail(path, f"has {' and '.join(given)}: give at most one of {', '.join(SHAPES)}")
        return None
    if not given:
        return None
    key = given[0]
    if key == "polygon":
        value = c.polygon(d[key], dims, f"{path}.polygon")
    elif key == "polyline":
        value = _polyline(c, d[key], dims, f"{path}.polyline")
    else:
        p = c.point(d[key], dims, f"{path}.point")
        value = None if p is None else list(p)
    return None if value is None else (key, value)


def _inside(box: list[float], points: list[list[float]]) -> bool:
    x0, y0, x1, y1 = box
    return all(x0 - BOX_SLACK <= x <= x1 + BOX_SLACK and y0 - BOX_SLACK <= y <= y1 + BOX_SLACK for x, y in points)


def _defect(c: Checker, d: dict, dims: AssetDims, path: str) -> dict | None:
    kind = c.choice(d.get("type"), DEFECT_TYPES, f"{path}.type")
    box = c.box(d.get("box"), dims, f"{path}.box")
    entry: dict = {"type": kind, "box": box}
    shape = _shape(c, d, dims, path)
    if shape is not None:
        key, value = shape
        entry[key] = value
        points = [value] if key == "point" else value
        if box is not None and not _inside(box, points):
            c.fail(f"{path}.{key}", "lies outside the defect's box: the box must be the shape's bounding box")
    if d.get("id") is not None:
        ident = d["id"]
        if not isinstance(ident, str) or not ident or len(ident) > MAX_ID_LENGTH:
            c.fail(f"{path}.id", f"must be a non-empty string of at most {MAX_ID_LENGTH} characters")
        else:
            entry["id"] = ident
    return entry


def validate(annotation, assets: list[AssetDims]) -> dict:
    c = Checker()
    root = c.obj(annotation, "$")
    if root is None:
        c.raise_if_any()
    verdict = c.choice(root.get("verdict"), VERDICTS, "$.verdict")
    shots_in = c.lst(root.get("shots", []), "$.shots")
    shots: list[dict] = []
    if shots_in is not None:
        if len(shots_in) != len(assets):
            c.fail("$.shots", f"needs one entry per shot of the series: {len(assets)} expected, {len(shots_in)} given")
        for i, (shot, dims) in enumerate(zip(shots_in, assets)):
            shot = c.obj(shot, f"$.shots[{i}]") or {}
            defects = c.lst(shot.get("defects", []), f"$.shots[{i}].defects") or []
            clean = []
            for j, d in enumerate(defects):
                path = f"$.shots[{i}].defects[{j}]"
                d = c.obj(d, path)
                if d is not None:
                    clean.append(_defect(c, d, dims, path))
            shots.append({"defects": clean})
    n_defects = sum(len(s["defects"]) for s in shots)
    if verdict == "ok" and n_defects:
        c.fail("$.verdict", "is 'ok' but defects are marked; set the verdict to 'defect' or remove them")
    if verdict == "defect" and shots_in is not None and not n_defects:
        c.fail("$.shots", "the verdict is 'defect': mark the defect on every shot where it is visible")
    c.raise_if_any()
    return {"verdict": verdict, "shots": shots}


def empty(assets: list[AssetDims]) -> dict:
    return {"verdict": "ok", "shots": [{"defects": []} for _ in assets]}


def slices(annotation: dict, meta: dict) -> list[str]:
    types = sorted({d["type"] for s in annotation.get("shots", []) for d in s.get("defects", [])})
    return [f"defect:{t}" for t in types] or ["verdict:ok"]


def shape_of(d: dict) -> tuple[str, tuple]:
    """(shape key, rounded geometry) of a defect: its polygon, polyline or point, else its box."""
    for key in SHAPES:
        value = d.get(key)
        if value is not None:
            points = [value] if key == "point" else value
            return key, tuple((round(x), round(y)) for x, y in points)
    return "box", tuple(round(v) for v in d["box"])


def defect_key(d: dict) -> tuple:
    """What makes two defects the same for counting edits: the type, the box and the shape (to a pixel)."""
    return d["type"], tuple(round(v) for v in d["box"]), shape_of(d)


def count_edits(before: dict | None, after: dict) -> int:
    """Defects added + removed + changed (type, box or shape moved), and a changed verdict, shot by shot."""
    if before is None:
        return sum(len(s["defects"]) for s in after.get("shots", [])) + 1
    edits = int(before.get("verdict") != after.get("verdict"))
    for b, a in zip(before.get("shots", []), after.get("shots", [])):
        bs = {defect_key(d) for d in b.get("defects", [])}
        as_ = {defect_key(d) for d in a.get("defects", [])}
        edits += len(bs ^ as_)
    return edits
