"""COCO export of catheter shapes, read back with pycocotools."""
import json

from pycocotools.coco import COCO

from webapp.catheter.exports import to_coco
from webapp.labeling.kinds import ExportedItem


def test_coco_uses_the_polygon_for_segmentation_and_area(tmp_path):
    assets = [{"name": "s0.png", "width": 400, "height": 300, "sha256": "a" * 64, "role": ""}]
    ann = {"verdict": "defect", "shots": [{"defects": [
        {"type": "inclusion", "box": [0, 0, 40, 40], "polygon": [[0, 0], [40, 0], [20, 40]], "id": "d1"},
        {"type": "axial_scratch", "box": [10, 10, 50, 90], "polyline": [[10, 10], [50, 90]]},
        {"type": "bubble", "box": [100, 100, 110, 110], "point": [105, 105]}]}]}
    path = tmp_path / "coco.json"
    path.write_text(to_coco([ExportedItem(1, "ext", assets, ann, {})]))
    coco = COCO(str(path))
    polygon, line, point = (coco.anns[i] for i in sorted(coco.anns))
    assert polygon["area"] == 800.0 and polygon["segmentation"] == [[0, 0, 40, 0, 20, 40]]
    assert coco.annToMask(polygon).sum() > 600          # the triangle, rasterised by COCO's own tools
    assert polygon["loupe_defect_id"] == "d1"
    assert line["area"] == 40 * 80 and "segmentation" not in line and line["loupe_polyline"] == [[10, 10], [50, 90]]
    assert point["loupe_point"] == [105, 105]
    assert json.loads(path.read_text())["categories"][2]["name"] == "inclusion"
