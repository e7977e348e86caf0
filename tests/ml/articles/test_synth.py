import cv2
import numpy as np
import pytest

from ml.articles import synth
from ml.articles.geometry import point_in_polygon
from ml.articles.styles import NON_ARTICLE_TYPES, STYLES, TRAIN_PUBLISHERS


def test_at_least_five_distinct_publisher_styles():
    assert len(TRAIN_PUBLISHERS) >= 5
    keys = {(s.columns, s.body_font, s.headline_style, s.vertical_rules, s.horizontal_rules, s.boxed)
            for s in STYLES.values()}
    assert len(keys) == len(STYLES) >= 6


def test_deterministic_for_a_seed():
    a = synth.generate_pages(3, seed=7, width=200, non_article_share=0.3)
    b = synth.generate_pages(3, seed=7, width=200, non_article_share=0.3)
    c = synth.generate_pages(3, seed=8, width=200, non_article_share=0.3)
    for x, y in zip(a, b):
        assert np.array_equal(x.image, y.image)
        assert x.gt == y.gt
    assert any(not np.array_equal(x.image, z.image) for x, z in zip(a, c))


def _inside(poly, x, y):
    return point_in_polygon(x, y, poly)


@pytest.mark.parametrize("pub", list(STYLES))
def test_ground_truth_consistency(pub):
    for seed in range(4):
        gt = synth.layout_page(pub, 1000 + seed).ground_truth()
        arts = {a["id"]: a["polygon"] for a in gt["annotation"]["articles"]}
        assert len(arts) >= 2
        # every block of an article lies inside that article and in no other; every article has blocks
        seen = set()
        for b in gt["blocks"]:
            if b["article"] is None:
                assert b["type"] in ("masthead",), b
                continue
            x0, y0, x1, y1 = b["box"]
            cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
            owners = [aid for aid, p in arts.items() if _inside(p, cx, cy)]
            assert owners == [b["article"]], (pub, seed, b, owners)
            for px, py in ((x0 + 1, y0 + 1), (x1 - 1, y0 + 1), (x0 + 1, y1 - 1), (x1 - 1, y1 - 1)):
                assert cv2.pointPolygonTest(np.float32(arts[b["article"]]).reshape(-1, 1, 2), (px, py), False) >= 0
            seen.add(b["article"])
        assert seen == set(arts)
        # the block -> article map and the reading order cover each article block exactly once
        listed = [bid for ids in gt["article_blocks"].values() for bid in ids]
        assert len(listed) == len(set(listed)) == sum(b["article"] is not None for b in gt["blocks"])
        assert sorted(gt["reading_order"]) == sorted(arts)
        # a cut separates two different articles wherever both sides hold article content
        style = STYLES[pub]
        d = max(style.gutter, style.vgap) / 2 + 6
        for c in gt["annotation"]["cuts"]:
            vertical = c["x0"] == c["x1"]
            assert vertical or c["y0"] == c["y1"]
            pairs = 0
            for t in np.linspace(0.05, 0.95, 15):
                x, y = c["x0"] + t * (c["x1"] - c["x0"]), c["y0"] + t * (c["y1"] - c["y0"])
                a = (x - d, y) if vertical else (x, y - d)
                b = (x + d, y) if vertical else (x, y + d)
                oa = [k for k, p in arts.items() if _inside(p, *a)]
                ob = [k for k, p in arts.items() if _inside(p, *b)]
                if oa and ob:
                    assert oa != ob, (pub, seed, c)
                    pairs += 1
            assert pairs > 0, (pub, seed, c)


@pytest.mark.parametrize("kind", NON_ARTICLE_TYPES)
def test_non_article_pages_have_no_articles(kind):
    gt = synth.layout_page("daily-courier", 5, kind).ground_truth()
    assert gt["page_type"] == kind
    assert gt["annotation"]["articles"] == [] and gt["annotation"]["cuts"] == []
    assert len(gt["tokens"]) > 50


def test_working_copy_render_matches_downsampled_300dpi_page():
    lay = synth.layout_page("evening-post", 11)
    full = synth.render(lay, noise=False)
    assert full.shape == (3508, 2480)
    direct = synth.render(lay, 320, noise=False).astype(np.float32)
    down = cv2.resize(full, (320, direct.shape[0]), interpolation=cv2.INTER_AREA).astype(np.float32)
    mad = float(np.abs(direct - down).mean())
    assert mad < 9.0, mad   # measured ~6 grey levels (sub-pixel placement of 300 dpi line strips)
    assert abs(direct.mean() - down.mean()) < 2.0


def test_write_dataset(tmp_path):
    info = synth.write_dataset(tmp_path, 2, seed=1, work_width=160, full=True, non_article_share=0.0)
    assert info["pages"] == 2
    assert cv2.imread(str(tmp_path / "pages" / "p00000.png"), cv2.IMREAD_GRAYSCALE).shape == (3508, 2480)
    assert cv2.imread(str(tmp_path / "work" / "p00001.png"), cv2.IMREAD_GRAYSCALE).shape[1] == 160


def test_held_out_publishers_have_a_style_and_no_shipped_model_trains_on_them():
    import json
    from pathlib import Path

    from ml.articles.styles import HELD_OUT_PUBLISHERS, publishers

    assert HELD_OUT_PUBLISHERS and all(p in STYLES for p in HELD_OUT_PUBLISHERS)
    assert not set(HELD_OUT_PUBLISHERS) & set(publishers())
    shipped = json.loads((Path(__file__).resolve().parents[3] / "pretrained/articles/pretrained.json").read_text())
    assert shipped["train"]["publishers"] == publishers()
