import numpy as np
from sklearn.ensemble import RandomForestClassifier

from ml.articles.pagefilter import Forest, image_features, text_features, train_forest
from ml.articles.styles import PAGE_TYPES
from ml.articles import synth


def test_numpy_forest_equals_sklearn_and_round_trips(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 5))
    y = (X[:, 0] + 0.5 * X[:, 1] > 0).astype(int) * 0 + np.where(X[:, 2] > 0.3, 2, 0)
    rf = RandomForestClassifier(n_estimators=15, max_depth=5, random_state=0).fit(X, y)
    f = Forest.from_sklearn(rf, PAGE_TYPES, [f"f{i}" for i in range(5)])
    Xt = rng.normal(size=(40, 5))
    assert np.allclose(f.predict_proba(Xt), rf.predict_proba(Xt))
    f.save(tmp_path, "pf")
    g = Forest.load(tmp_path, "pf")
    assert np.allclose(g.predict_proba(Xt), rf.predict_proba(Xt)) and g.classes == f.classes


def test_features_separate_page_types():
    pages = synth.generate_pages(16, seed=3, width=384, non_article_share=0.5)
    X = np.stack([image_features(p.image, 384) for p in pages])
    assert np.isfinite(X).all()
    tv = [p for p in pages if p.gt["page_type"] == "tv"]
    art = [p for p in pages if p.gt["page_type"] == "article"]
    if tv and art:
        assert text_features(tv[0].gt["tokens"])[2] > text_features(art[0].gt["tokens"])[2]  # time tokens
    forest, info = train_forest(X, [p.gt["page_type"] for p in pages], [str(i) for i in range(X.shape[1])], 20, 6,
                                0.99)
    assert 0.0 < forest.threshold_article <= 0.5
    assert forest.p_article(X).shape == (16,)
