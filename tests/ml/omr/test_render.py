import numpy as np

from formats.omr.deepscores import UNMAPPED
from ml.omr.config import RenderConfig
from ml.omr.render import engrave, path_points, render_svg, svg_symbols, to_coco, to_deepscores


def test_render_is_deterministic(bach_page):
    from ml.omr.render import _engrave_cached, render_page

    _engrave_cached.cache_clear()      # engrave again from scratch: same SVG, same pixels, same boxes
    again = render_page("bach/bwv66.6")
    assert again.svg == bach_page.svg
    assert np.array_equal(again.image, bach_page.image)
    assert [s.to_dict() for s in again.symbols] == [s.to_dict() for s in bach_page.symbols]


def test_page_size_follows_dpi(bach_page):
    assert bach_page.image.shape == (1754, 1240)        # A4 at 150 dpi
    svg = engrave("bach/bwv66.6")[0]
    small = render_svg(svg, RenderConfig(dpi=75))
    assert small.image.shape == (877, 620)
    # boxes scale with the dpi
    big = {s.id: s.bbox for s in bach_page.symbols}
    for s in small.symbols[:50]:
        assert np.allclose(np.asarray(s.bbox) * 2, big[s.id], atol=0.05)


def test_classes_and_counts(bach_page):
    classes = {s.cls for s in bach_page.symbols}
    for c in ("noteheadBlack", "stem", "beam", "clefG", "clefF", "keySharp", "barline", "timeSigCommon"):
        assert c in classes, c
    n_heads = sum(s.cls.startswith("notehead") for s in bach_page.symbols)
    assert n_heads == bach_page.svg.count('class="notehead"')          # one box per engraved notehead
    assert sum(s.cls == "stem" for s in bach_page.symbols) == bach_page.svg.count('class="stem"')


def test_boxes_lie_on_ink_and_are_tight(bach_page):
    img = bach_page.image
    on_ink = 0
    heads = [s for s in bach_page.symbols if s.cls == "noteheadBlack"]
    for s in bach_page.symbols:
        x0, y0, x1, y1 = s.bbox
        crop = img[int(y0):int(np.ceil(y1)), int(x0):int(np.ceil(x1))]
        on_ink += bool((crop < 128).any())
    assert on_ink == len(bach_page.symbols)
    fills = []
    for s in heads:   # a black notehead fills most of a tight box (an ellipse fills ~78% of its box)
        x0, y0, x1, y1 = s.bbox
        fills.append((img[int(round(y0)):int(round(y1)), int(round(x0)):int(round(x1))] < 128).mean())
    assert np.median(fills) > 0.6, np.median(fills)
    assert np.median([s.bbox[2] - s.bbox[0] for s in heads]) < 16      # ~1.3 staff spaces at 150 dpi


def test_exports_use_deepscores_v2_classes_and_ids(bach_page):
    assert bach_page.staff_lines and len(bach_page.staff_lines) % 5 == 0   # whole staves of 5 lines
    ds = to_deepscores([bach_page], ["p.png"])
    mapped = [s for s in bach_page.symbols if s.cls not in UNMAPPED]
    staves = len({round(y, 1) for y in bach_page.staff_lines}) // 5     # each line is drawn once per measure
    assert len(ds["images"]) == 1 and len(ds["annotations"]) == len(mapped) + staves > staves   # and a staff box each
    ann = next(iter(ds["annotations"].values()))
    assert set(ann) >= {"a_bbox", "o_bbox", "cat_id", "area", "img_id"}
    assert len(ds["categories"]) == 136 and ds["categories"]["2"]["name"] == "legerLine"   # DS2's fixed ids
    names = {ds["categories"][a["cat_id"][0]]["name"] for a in ds["annotations"].values()}
    assert {"noteheadBlackOnLine", "noteheadBlackInSpace", "stem", "staff"} <= names and "noteheadBlack" not in names
    coco = to_coco([bach_page], ["p.png"])
    b = coco["annotations"][0]["bbox"]
    assert len(b) == 4 and b[2] > 0 and b[3] > 0
    assert len(coco["categories"]) == 136 and coco["categories"][24]["name"] == "noteheadBlackOnLine"
    assert coco["categories"][24]["id"] == 25


def test_path_points_and_transforms():
    pts = path_points("M0 0 h10 v5 h-10 z")
    assert pts.min(0).tolist() == [0, 0] and pts.max(0).tolist() == [10, 5]
    pts = path_points("M0 0 C0 10 10 10 10 0")       # cubic: its top is 7.5, not the control points' 10
    assert abs(pts[:, 1].max() - 7.5) < 0.05
    svg = ('<svg xmlns="http://www.w3.org/2000/svg" width="100px" height="100px"><svg viewBox="0 0 1000 1000">'
           '<g transform="translate(100, 100)"><g id="a" class="stem"><path d="M0 0 L0 300" stroke-width="20"/>'
           '</g></g></svg></svg>')
    (s,) = svg_symbols(svg, 100, 100)
    assert s.cls == "stem" and np.allclose(s.bbox, (9, 10, 11, 40))
