"""Exports of accepted demo pairs (real chorale engravings): the alignments JSON holds every accepted item,
the symbol exports put the original's boxes on the photo where the photo's exact truth puts them, and
pycocotools reads the COCO file."""
import json

import numpy as np
import pytest
from pycocotools.coco import COCO

from formats.omr.alignments import from_alignments_json
from formats.omr.deepscores import ds2_symbols, from_deepscores
from webapp.labeling.exports import export_render

pytestmark = [pytest.mark.django_db, pytest.mark.slow]
MODERATE, WRONG = 0, 6   # indices in ml.omr.demo.KIND_CYCLE


def _render(project, name: str) -> dict:
    chunks, _, _ = export_render(project=project, format_name=name)
    return json.loads("".join(c if isinstance(c, str) else c.decode() for c in chunks))


def test_accepted_pairs_export_alignments_and_photo_symbols(make_project, omr_items, accept, tmp_path):
    project = make_project("omr", review_required=False)
    made = omr_items(project, [MODERATE, WRONG])
    for item, truth, _ in made:
        accept(item, truth)
    (good, good_truth, pair), (wrong, _, _) = made

    rows = from_alignments_json(json.dumps(_render(project, "alignments")))
    assert set(rows) == {good.pk, wrong.pk}
    assert rows[good.pk]["status"] == "accepted" and np.allclose(rows[good.pk]["homography"], good_truth["homography"])
    assert rows[wrong.pk]["status"] == "rejected" and rows[wrong.pk]["reasons"] == ["wrong page"]

    coco_doc = _render(project, "coco")
    path = tmp_path / "coco.json"
    path.write_text(json.dumps(coco_doc))
    coco = COCO(str(path))
    (photo_image,) = coco.dataset["images"]   # the rejected pair has no photo-side symbols
    assert photo_image["width"] == pair.photo.shape[1] and photo_image["height"] == pair.photo.shape[0]
    anns = coco.loadAnns(coco.getAnnIds(imgIds=[photo_image["id"]]))
    named = ds2_symbols(pair.meta())   # the classes DeepScoresV2 has (it lacks e.g. barline)
    assert len(named) > 0.8 * len(pair.original.symbols) and len(anns) == len(named)

    symbols = from_deepscores(_render(project, "deepscores"))
    (boxes,) = symbols.values()
    assert len(boxes) == len(anns)
    # every exported box sits where the photo's exact mapping puts the symbol's corners (a planar photo)
    truth = []
    for s in pair.original.symbols:
        x0, y0, x1, y1 = s.bbox
        q = pair.mapping.page_to_photo(np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]]))
        truth.append([q[:, 0].min(), q[:, 1].min(), q[:, 0].max(), q[:, 1].max()])
    truth = np.array(truth)
    for _, box in boxes[:100]:
        assert np.abs(truth - np.array(box)).max(axis=1).min() < 0.05
