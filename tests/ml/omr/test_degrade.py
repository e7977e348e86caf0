import numpy as np
import pytest
from dataclasses import replace

from ml.omr.config import DEGRADE_PRESETS
from ml.omr.degrade import degrade


def _dots_page(W=600, H=800, step=100):
    img = np.full((H, W), 255, np.uint8)
    centres = []
    for y in range(60, H - 40, step):
        for x in range(60, W - 40, step):
            img[y - 3:y + 4, x - 3:x + 4] = 0          # 7x7 dot centred on (x + 0.5, y + 0.5)
            centres.append((x + 0.5, y + 0.5))
    return img, np.asarray(centres)


def _blob_centroids(photo, predicted, r=9):
    ink = 255.0 - photo.astype(np.float64)
    ink = np.clip(ink - np.median(ink), 0, None)
    out = []
    for px, py in predicted:
        x0, y0 = int(px) - r, int(py) - r
        win = ink[y0:y0 + 2 * r + 1, x0:x0 + 2 * r + 1]
        ys, xs = np.mgrid[0:win.shape[0], 0:win.shape[1]]
        w = win.sum()
        out.append(((xs * win).sum() / w + x0 + 0.5, (ys * win).sum() / w + y0 + 0.5))
    return np.asarray(out)


@pytest.mark.parametrize("curl", [0.0, 14.0])
def test_mapping_is_exact(curl):
    img, centres = _dots_page()
    cfg = replace(DEGRADE_PRESETS["clean"], corner_jitter=0.12, rotate_deg=4.0, curl=curl)
    for seed in range(3):
        photo, m = degrade(img, seed=seed, cfg=cfg)
        pred = m.page_to_photo(centres)
        found = _blob_centroids(photo, pred)
        err = np.linalg.norm(found - pred, axis=1)
        assert np.median(err) < 0.1 and err.max() < 0.3, (seed, err.max())
        back = m.photo_to_page(pred)
        assert np.abs(back - centres).max() < 1e-6


def test_curl_is_not_planar():
    import cv2

    img, centres = _dots_page()
    cfg = replace(DEGRADE_PRESETS["clean"], curl=14.0)
    _, m = degrade(img, seed=1, cfg=cfg)
    pred = m.page_to_photo(centres)
    h, _ = cv2.findHomography(centres, pred, 0)
    from ml.omr.degrade import apply_h

    assert np.linalg.norm(apply_h(h, centres) - pred, axis=1).max() > 2.0


def test_degrade_is_deterministic_and_degrades():
    img, _ = _dots_page()
    a, ma = degrade(img, seed=7)
    b, mb = degrade(img, seed=7)
    c, _ = degrade(img, seed=8)
    assert np.array_equal(a, b) and np.allclose(ma.homography, mb.homography)
    assert not np.array_equal(a, c)
    assert a.std() > 5 and ma.params["jpeg_quality"] <= 90


def test_partial_preset_cuts_the_page():
    img, _ = _dots_page()
    _, m = degrade(img, seed=3, cfg="partial")
    assert m.visible_share() < 0.9
    _, m = degrade(img, seed=3, cfg="moderate")
    assert m.visible_share() == 1.0
