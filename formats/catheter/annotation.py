"""Catheter annotations: a verdict for the balloon and its defects on every shot of the series.

    {"verdict": "ok" | "defect",
     "shots": [{"defects": [{"type": "axial_scratch",
                             "box": [x0, y0, x1, y1],            # always: the shape's bounding box
                             "polygon": [[x, y], ...]            # at most one of polygon (>= 3 points),
                             | "polyline": [[x, y], ...]         #   polyline (>= 2 points)
                             | "point": [x, y],                  #   or point (its box: the point ± POINT_RADIUS)
                             "id": "d1"}]}]}                     # optional: follows one defect across shots

One entry in ``shots`` per image of the item, in order; coordinates in original image pixels.
"""
from __future__ import annotations

from formats.common.checker import LIMITS, NCNAME_PATTERN, AssetDims, Checker
from formats.common.jsonschema import DIALECT, POINT

DEFECT_TYPES = ("axial_scratch", "radial_scratch", "inclusion", "bubble")
VERDICTS = ("ok", "defect")
SHAPES = ("polygon", "polyline", "point")
POINT_RADIUS = 4.0     # the box an editor gives a point defect: the point ± this, in pixels
BOX_TOLERANCE = 1.0    # a shape may overshoot its box by rounding, not more


def _defect(c: Checker, d, dims: AssetDims, path: str) -> dict | None:
    d = c.obj(d, path)
    if d is None:
        return None
    kind = c.choice(d.get("type"), DEFECT_TYPES, f"{path}.type")
    box = c.box(d.get("box"), dims, f"{path}.box")
    entry: dict = {"type": kind, "box": box}
    given = [s for s in SHAPES if d.get(s) is not None]
    if len(given) > 1:
        c.fail(path, f"has {' and '.join(given)}; a defect has at most one shape besides its box")
    elif given:
        shape = given[0]
        if shape == "polygon":
            value = c.polygon(d["polygon"], dims, f"{path}.polygon")
            points = value
        elif shape == "polyline":
            value = c.polyline(d["polyline"], dims, f"{path}.polyline")
            points = value
        else:
            p = c.point(d["point"], dims, f"{path}.point")
            value = list(p) if p else None
            points = [value] if value else None
        if points and box:
            x0, y0, x1, y1 = box
            t = BOX_TOLERANCE
            if any(not (x0 - t <= x <= x1 + t and y0 - t <= y <= y1 + t) for x, y in points):
                c.fail(f"{path}.{shape}", "lies outside its box: the box must be the shape's bounding box")
        entry[shape] = value
    if d.get("id") is not None:
        # The id is shown to reviewers and admins: the XML-id grammar keeps markup and control characters out.
        ident = c.identifier(d["id"], f"{path}.id")
        if ident is not None:
            entry["id"] = ident
    return entry


def validate(annotation, assets: list[AssetDims], *, complete: bool = True) -> dict:
    """The annotation checked and normalised. ``complete=False`` (a draft, mid-edit) skips the rules that
    relate the verdict to the marks: an operator may set the verdict before drawing, or draw first."""
    c = Checker()
    root = c.root(annotation, assets)
    verdict = c.choice(root.get("verdict"), VERDICTS, "$.verdict")
    shots_in = c.lst(root.get("shots", []), "$.shots")
    shots: list[dict] = []
    if shots_in is not None:
        if len(shots_in) != len(assets):
            c.fail("$.shots", f"needs one entry per shot of the series: {len(assets)} expected, {len(shots_in)} given")
        for i, (shot, dims) in enumerate(zip(shots_in, assets)):
            shot = c.obj(shot, f"$.shots[{i}]") or {}
            defects = c.lst(shot.get("defects", []), f"$.shots[{i}].defects", LIMITS["shapes_per_image"]) or []
            clean, ids = [], set()
            for j, d in enumerate(defects):
                entry = _defect(c, d, dims, f"$.shots[{i}].defects[{j}]")
                if entry is None:
                    continue
                if "id" in entry:
                    if entry["id"] in ids:
                        c.fail(f"$.shots[{i}].defects[{j}].id", f"duplicate defect id {entry['id']!r} on this shot")
                    ids.add(entry["id"])
                clean.append(entry)
            shots.append({"defects": clean})
    n_defects = sum(len(s["defects"]) for s in shots)
    if complete and verdict == "ok" and n_defects:
        c.fail("$.verdict", "is 'ok' but defects are marked; set the verdict to 'defect' or remove them")
    if complete and verdict == "defect" and shots_in is not None and not n_defects:
        c.fail("$.shots", "the verdict is 'defect': mark the defect on every shot where it is visible")
    c.raise_if_any()
    return {"verdict": verdict, "shots": shots}


def empty(assets: list[AssetDims]) -> dict:
    return {"verdict": "ok", "shots": [{"defects": []} for _ in assets]}


def slices(annotation: dict, meta: dict) -> list[str]:
    """The gate's slices an item belongs to: its defect types and, when defective, its optical set-up
    (the golden-set figures' ``setup:`` slices are recalls of defective shots); OK items: ``verdict:ok``."""
    types = sorted({d["type"] for s in annotation.get("shots", []) for d in s.get("defects", [])})
    if not types:
        return ["verdict:ok"]
    return [f"defect:{t}" for t in types] + ([f"setup:{meta['setup']}"] if meta.get("setup") else [])


def shape_of(d: dict) -> tuple[str, tuple]:
    """(shape key, geometry rounded to the pixel) of a defect: its polygon, polyline or point, else its box."""
    for key in SHAPES:
        value = d.get(key)
        if value is not None:
            points = [value] if key == "point" else value
            return key, tuple((round(x), round(y)) for x, y in points)
    return "box", tuple(round(v) for v in d["box"])


def defect_key(d: dict) -> tuple:
    """What makes two defects the same when counting edits: the type, the box and the shape (to a pixel)."""
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


JSON_SCHEMA = {
    "$schema": DIALECT,
    "title": "Catheter annotation",
    "description": "A verdict for the balloon and its defects on every shot of the series, in original image "
                   "pixels; one entry in shots per image of the item. Bounds against the image are checked by "
                   "the server.",
    "type": "object",
    "required": ["verdict", "shots"],
    "properties": {
        "verdict": {"enum": list(VERDICTS)},
        "shots": {"type": "array", "items": {
            "type": "object",
            "properties": {"defects": {"type": "array", "maxItems": LIMITS["shapes_per_image"], "items": {
                "type": "object",
                "required": ["type", "box"],
                "properties": {
                    "type": {"enum": list(DEFECT_TYPES)},
                    "box": {"type": "array", "items": {"type": "number", "minimum": 0}, "minItems": 4, "maxItems": 4,
                            "description": "[x0, y0, x1, y1], the shape's bounding box"},
                    "polygon": {"type": "array", "items": POINT, "minItems": 3,
                                "maxItems": LIMITS["points_per_polygon"]},
                    "polyline": {"type": "array", "items": POINT, "minItems": 2,
                                 "maxItems": LIMITS["points_per_polygon"]},
                    "point": POINT,
                    "id": {"type": "string", "minLength": 1, "maxLength": LIMITS["id_length"],
                           "pattern": NCNAME_PATTERN,
                           "description": "follows one defect across shots; a letter or _, then letters, "
                                          "digits, '.', '-' or '_'"},
                },
                "oneOf": [{"not": {"anyOf": [{"required": [s]} for s in SHAPES]}}]
                         + [{"required": [s], "not": {"anyOf": [{"required": [o]} for o in SHAPES if o != s]}}
                            for s in SHAPES],
            }}},
        }},
    },
}
