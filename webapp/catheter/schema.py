"""Catheter annotations: a verdict for the balloon and its defects on every shot of the series.

    {"verdict": "ok" | "defect",
     "shots": [{"defects": [{"type": "axial_scratch", "box": [x0, y0, x1, y1], "polygon": [[x, y], ...]}]}]}

One entry in ``shots`` per image of the item, in order; coordinates in original image pixels.
"""
from webapp.labeling.kinds import AssetDims, Checker

DEFECT_TYPES = ("axial_scratch", "radial_scratch", "inclusion", "bubble")
VERDICTS = ("ok", "defect")


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
                if d is None:
                    continue
                kind = c.choice(d.get("type"), DEFECT_TYPES, f"{path}.type")
                box = c.box(d.get("box"), dims, f"{path}.box")
                entry = {"type": kind, "box": box}
                if d.get("polygon") is not None:
                    entry["polygon"] = c.polygon(d["polygon"], dims, f"{path}.polygon")
                clean.append(entry)
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


def count_edits(before: dict | None, after: dict) -> int:
    """Defects added + removed + changed, and a changed verdict, compared shot by shot."""
    if before is None:
        return sum(len(s["defects"]) for s in after.get("shots", [])) + 1
    edits = int(before.get("verdict") != after.get("verdict"))
    for b, a in zip(before.get("shots", []), after.get("shots", [])):
        bs = {(d["type"], tuple(round(v) for v in d["box"])) for d in b.get("defects", [])}
        as_ = {(d["type"], tuple(round(v) for v in d["box"])) for d in a.get("defects", [])}
        edits += len(bs ^ as_)
    return edits
