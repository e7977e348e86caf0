"""The articles editor in a real browser: the operator corrects the model's cuts with the mouse and keys;
the revision the API shows has the cuts in page pixels. Also the cut drag's frame rate on a 300 dpi
broadsheet. Screenshots go to artifacts/screenshots."""
import time

import pytest
from PIL import Image, ImageDraw

from formats.articles.layout import articles_from_cuts, page_geometry, point_in_polygon
from formats.articles.pagexml import from_page_xml, to_page_xml
from webapp.assets.storage import media_path

from .workspace_helpers import open_workspace, shot, to_screen

pytestmark = [pytest.mark.browser, pytest.mark.slow]

W, H = 2000, 2800
GEOMETRY = {"frame": [100, 150, 1900, 2700], "gutters": [550, 1000, 1450], "rules": [[1000, 1400, 1900, 1400]]}
V1 = {"x0": 550, "y0": 150, "x1": 550, "y1": 2700}
V2 = {"x0": 1000, "y0": 150, "x1": 1000, "y1": 2700}
H1 = {"x0": 1000, "y0": 1400, "x1": 1900, "y1": 1400}
V3 = {"x0": 1450, "y0": 1400, "x1": 1450, "y1": 2700}
H0 = {"x0": 1000, "y0": 800, "x1": 1900, "y1": 800}   # a weak candidate, below the publisher's threshold
CANDIDATES = [{**V1, "confidence": 0.9}, {**V2, "confidence": 0.8}, {**H1, "confidence": 0.7},
              {**V3, "confidence": 0.35}, {**H0, "confidence": 0.2}]
TAU = 0.3


def write_page(asset, geometry, width, height, columns) -> None:
    """A newspaper-like page: grey text lines in columns between the gutters, the rules printed."""
    img = Image.new("L", (width, height), 250)
    d = ImageDraw.Draw(img)
    fx0, fy0, fx1, fy1 = geometry["frame"]
    edges = [fx0] + columns + [fx1]
    step = max(12, height // 200)
    for a, b in zip(edges, edges[1:]):
        for y in range(int(fy0) + 20, int(fy1) - 20, step):
            d.line([a + 20, y, b - 20, y], fill=90, width=max(2, step // 3))
    for r in geometry["rules"]:
        d.line(r, fill=0, width=4)
    path = media_path(asset.original)
    path.parent.mkdir(parents=True, exist_ok=True)
    img.convert("RGB").save(path)


@pytest.fixture
def articles_item(make_project, make_asset, settings, tmp_path):
    from webapp.labeling.services import item_create, prediction_record
    from webapp.mlops.services import model_version_register

    settings.MEDIA_ROOT = str(tmp_path / "media")

    def make(width=W, height=H, geometry=GEOMETRY, candidates=CANDIDATES, columns=(550, 1000, 1450)):
        project = make_project(kind="articles", name="Daily Courier")
        asset = make_asset(width=width, height=height)
        write_page(asset, geometry, width, height, list(columns))
        item = item_create(project=project, asset_ids=[asset.pk])
        version = model_version_register(kind="articles", scope_key=project.scope_key, artifact_uri="/tmp/x")
        cuts = [{k: c[k] for k in ("x0", "y0", "x1", "y1")} for c in candidates if c["confidence"] >= TAU]
        articles = articles_from_cuts(cuts, page_geometry(geometry, width, height), width, height)
        prediction_record(item_id=item.pk, model_version_id=version.pk,
                          payload={"page_type": "article", "cuts": cuts, "articles": articles},
                          scores={"page_type": "article", "tau": TAU, "candidates": candidates, "geometry": geometry},
                          uncertainty=0.5)
        return item

    return make


def annotation(page):
    return page.evaluate("window.LOUPE_WS.annotation()")


def synced(page):
    page.wait_for_function("document.body.dataset.layout === 'synced'")
    return annotation(page)


def drag(page, a, b, steps=8):
    page.mouse.move(*to_screen(page, *a))
    page.mouse.down()
    page.mouse.move(*to_screen(page, *b), steps=steps)
    page.mouse.up()


def zoom_to(page, x, y, w, h):
    page.evaluate("""([x, y, w, h]) => { const v = window.LOUPE_WS.viewer.osd;
        v.viewport.fitBounds(v.world.getItemAt(0).imageToViewportRectangle(x, y, w, h), true); }""", [x, y, w, h])
    page.wait_for_timeout(150)


def near(cut, want, tol):
    return all(abs(cut[k] - want[k]) <= tol for k in ("x0", "y0", "x1", "y1"))


def test_operator_corrects_the_cuts_with_the_mouse_and_keys(login, asgi_server, articles_item, make_user):
    item = articles_item()
    make_user("operator", username="olga")
    page = login("olga")
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: m.type == "error" and errors.append(m.text))
    page.goto(f"{asgi_server}/projects/{item.project.slug}/")
    page.keyboard.press("n")
    page.wait_for_url(f"**/items/{item.pk}/")
    open_workspace(page, page.url)
    a = synced(page)
    assert len(a["cuts"]) == 4 and len(a["articles"]) == 5  # the proposal at the publisher's threshold
    assert page.locator("#toolbar [data-tool=box]").is_hidden()
    shot(page, "articles-01-proposal")
    page.keyboard.press("?")
    page.wait_for_selector("#help:not([hidden])")
    help_text = page.inner_text("#help")
    for entry in ("Cut tool", "Merge the two articles", "Reading order", "Page type: ads", "Threshold down"):
        assert entry in help_text
    page.keyboard.press("Escape")

    # 1. a cut across column 1, drawn a little askew: straightened, its ends onto the frame and the cut V1
    page.keyboard.press("x")
    assert page.get_attribute("#viewer", "data-tool") == "cut"
    drag(page, (140, 2004), (530, 1997))
    a = synced(page)
    drawn = a["cuts"][-1]
    assert drawn["y0"] == drawn["y1"] and abs(drawn["y0"] - 2000.5) <= 3, drawn
    assert (drawn["x0"], drawn["x1"]) == (100, 550), drawn
    assert len(a["articles"]) == 6
    shot(page, "articles-02-cut-drawn")

    # 2. drag the bottom end of the proposed cut V3 up to y = 2400 (nothing to snap to there)
    page.keyboard.press("v")
    zoom_to(page, 1250, 2200, 400, 600)
    drag(page, (1450, 2700), (1450, 2400))
    a = synced(page)
    v3 = next(c for c in a["cuts"] if c["x0"] == 1450)
    assert abs(min(v3["y0"], v3["y1"]) - 1400) <= 0.5 and abs(max(v3["y0"], v3["y1"]) - 2400) <= 2, v3
    page.keyboard.press("0")
    page.wait_for_timeout(300)
    shot(page, "articles-03-end-dragged")

    # 3. delete it again: click on it, Del
    page.mouse.click(*to_screen(page, 1450, 1900))
    page.wait_for_function("window.LOUPE_WS.selected() !== null")
    page.keyboard.press("Delete")
    a = synced(page)
    assert not any(c["x0"] == 1450 for c in a["cuts"])
    assert len(a["articles"]) == 5

    # 4. merge the top of column 1 with column 2: the piece of V1 between them goes, the rest stays
    page.mouse.click(*to_screen(page, 300, 1000))
    page.mouse.click(*to_screen(page, 800, 1000))
    page.keyboard.press("m")
    a = synced(page)
    v1 = [c for c in a["cuts"] if c["x0"] == 550 and c["x1"] == 550]
    assert len(v1) == 1, v1
    assert abs(min(v1[0]["y0"], v1[0]["y1"]) - 2000.5) <= 3 and max(v1[0]["y0"], v1[0]["y1"]) == 2700, v1
    assert len(a["articles"]) == 4
    shot(page, "articles-04-merged")
    edited = a

    # 5. page type by key: ads (no cuts on such a page), then undone
    page.keyboard.press("2")
    page.wait_for_function("window.LOUPE_WS.annotation().page_type === 'ads'")
    assert annotation(page)["cuts"] == []
    shot(page, "articles-05-ads")
    page.keyboard.press("Control+z")
    page.wait_for_function("window.LOUPE_WS.annotation().page_type === 'article'")

    # 6. the threshold slider: at 0.75 only the two strongest cuts are left (drawn); at 0.15 the weak H0 too
    slider = page.locator("#threshold")
    slider.fill("0.75")
    page.wait_for_function("window.LOUPE_WS.annotation().cuts.length === 2")
    a = synced(page)
    assert sorted((c["x0"], c["y0"]) for c in a["cuts"]) == [(550, 150), (1000, 150)]
    assert page.locator(".layer-proposal .shape").count() == 2
    shot(page, "articles-06-threshold-075")
    slider.fill("0.15")
    page.wait_for_function("window.LOUPE_WS.annotation().cuts.length === 5")
    shot(page, "articles-06b-threshold-015")
    page.keyboard.press("Control+z")
    page.wait_for_function("window.LOUPE_WS.annotation().cuts.length === 2")
    page.keyboard.press("Control+z")
    page.wait_for_function("window.LOUPE_WS.annotation().cuts.length === 4")
    a = synced(page)
    assert a["cuts"] == edited["cuts"]

    # 7. reading order by clicking: the bottom of column 1 first
    first_id = next(x["id"] for x in annotation(page)["articles"] if point_in_polygon(300, 2400, x["polygon"]))
    assert annotation(page)["articles"][0]["id"] != first_id
    page.keyboard.press("e")
    page.mouse.click(*to_screen(page, 300, 2400))
    page.wait_for_function(f"window.LOUPE_WS.annotation().articles[0].id === {first_id!r}")
    page.keyboard.press("e")
    shot(page, "articles-07-reading-order")

    page.keyboard.press("Control+Enter")
    page.wait_for_url(f"**/items/{item.pk}/?saved=1")
    res = page.request.get(f"{asgi_server}/api/v1/items/{item.pk}/revisions/")
    assert res.ok
    rev = res.json()[-1]["annotation"]
    assert rev["page_type"] == "article"
    cuts = sorted(rev["cuts"], key=lambda c: (c["x0"], c["y0"]))
    want = sorted([{"x0": 100, "y0": drawn["y0"], "x1": 550, "y1": drawn["y0"]},
                   {"x0": 550, "y0": drawn["y0"], "x1": 550, "y1": 2700}, V2, H1], key=lambda c: (c["x0"], c["y0"]))
    assert len(cuts) == 4 and all(near(c, w, 0.5) for c, w in zip(cuts, want)), cuts
    assert [x["id"] for x in rev["articles"]][0] == first_id and len(rev["articles"]) == 4
    # the answer in PAGE XML and back: the same cuts, articles (ids kept), reading order and page type
    assert from_page_xml(to_page_xml(rev, W, H, "page.png"))[0] == rev
    assert errors == []
    shot(page, "articles-08-submitted")


def test_from_scratch_without_a_proposal(login, asgi_server, make_project, make_asset, make_user, settings, tmp_path):
    from webapp.labeling.services import item_create

    settings.MEDIA_ROOT = str(tmp_path / "media")
    asset = make_asset(width=W, height=H)
    write_page(asset, {"frame": [0, 0, W, H], "rules": []}, W, H, [1000])
    item = item_create(project=make_project(kind="articles"), asset_ids=[asset.pk])
    make_user("operator", username="olga")
    page = login("olga")
    page.goto(f"{asgi_server}/projects/{item.project.slug}/")
    page.keyboard.press("n")
    page.wait_for_url(f"**/items/{item.pk}/")
    open_workspace(page, page.url)
    a = synced(page)
    assert a["cuts"] == [] and [x["polygon"] for x in a["articles"]] == [[[0, 0], [W, 0], [W, H], [0, H]]]
    assert page.locator("#threshold").is_disabled()  # no candidates without a prediction
    page.keyboard.press("x")
    drag(page, (1003, 30), (998, 2790))
    a = synced(page)
    assert a["cuts"] == [{"x0": 1001, "y0": 0, "x1": 1001, "y1": 2800, "id": "c1"}]  # straight, frame to frame
    assert len(a["articles"]) == 2
    page.keyboard.press("Control+z")
    page.wait_for_function("window.LOUPE_WS.annotation().cuts.length === 0")
    assert len(synced(page)["articles"]) == 1  # one undo step: the cut and the articles it made
    page.keyboard.press("Control+Shift+z")
    page.wait_for_function("window.LOUPE_WS.annotation().articles.length === 2")
    page.keyboard.press("Control+Enter")
    page.wait_for_url(f"**/items/{item.pk}/?saved=1")
    rev = page.request.get(f"{asgi_server}/api/v1/items/{item.pk}/revisions/").json()[-1]["annotation"]
    assert len(rev["cuts"]) == 1 and len(rev["articles"]) == 2


def test_a_reviewer_sees_cuts_added_removed_and_moved(login, asgi_server, articles_item, make_user):
    from webapp.labeling.services import lease_take_next, revision_submit

    item = articles_item()
    olga = make_user("operator", username="olga")
    make_user("reviewer", username="rita")
    lease_take_next(project_id=item.project_id, user=olga)
    cuts = [V1, {**V2, "y1": 2600}, {"x0": 100, "y0": 2000, "x1": 550, "y1": 2000}]  # H1, V3 removed; V2 moved
    geometry = page_geometry(GEOMETRY, W, H)
    answer = {"page_type": "article", "cuts": cuts, "articles": articles_from_cuts(cuts, geometry, W, H)}
    revision_submit(item_id=item.pk, user=olga, annotation=answer, base_revision=None,
                    from_prediction_id=item.predictions.first().pk)
    page = login("rita")
    open_workspace(page, f"{asgi_server}/items/{item.pk}/")
    page.wait_for_selector("#review-box:not([hidden])")
    summary = page.inner_text("#diff-summary")
    assert "1 added" in summary and "2 removed" in summary and "1 changed" in summary, summary
    assert "4 edits" in summary  # the revision's edit count: 2 deleted + 1 moved + 1 added
    assert page.locator(".diff-added .shape").count() == 1
    assert page.locator(".diff-removed .shape").count() == 2
    assert page.locator(".diff-after .shape").count() == 1
    shot(page, "articles-09-review-diff")


def test_a_page_type_only_change_is_named_in_the_review_summary(login, asgi_server, articles_item, make_user):
    """No cut moved, the page type did: the reviewer reads it in words, and one edit is "1 edit"."""
    from webapp.labeling.services import lease_take_next, revision_submit

    item = articles_item()
    proposal = item.predictions.first()
    olga = make_user("operator", username="olga")
    make_user("reviewer", username="rita")
    lease_take_next(project_id=item.project_id, user=olga)
    revision_submit(item_id=item.pk, user=olga, annotation={**proposal.payload, "page_type": "sports", "articles": []},
                    base_revision=None, from_prediction_id=proposal.pk)
    page = login("rita")
    open_workspace(page, f"{asgi_server}/items/{item.pk}/")
    page.wait_for_selector("#review-box:not([hidden]) [data-count=page_type]")
    summary = page.inner_text("#diff-summary")
    assert "0 added" in summary and "0 removed" in summary and "0 changed" in summary, summary
    assert "page type article → sports" in summary and summary.rstrip().endswith("1 edit"), summary
    assert "1 edit ·" in page.text_content("#history")  # the revision history says it the same way
    shot(page, "articles-10-review-page-type")


def test_a_cut_drag_redraws_at_30_fps_on_a_broadsheet(login, asgi_server, articles_item, make_user, capsys):
    """A 300 dpi broadsheet (7000 × 10000 px) with 8 columns and 40 proposed cuts: the drag of a new cut is
    redrawn on every animation frame while the mouse moves."""
    from webapp.assets.services import asset_build_derivatives

    w, h = 7000, 10000
    gutters = [250 + k * 812.5 for k in range(1, 8)]
    geometry = {"frame": [250, 500, 6750, 9700], "gutters": gutters, "rules": []}
    cands = [{"x0": g, "y0": 500, "x1": g, "y1": 9700, "confidence": 0.9} for g in gutters]
    cands += [{"x0": gutters[k % 7] - 812.5 if k % 7 else 250, "y0": 1000 + 260 * k,
               "x1": gutters[k % 7], "y1": 1000 + 260 * k, "confidence": 0.6} for k in range(33)]
    item = articles_item(width=w, height=h, geometry=geometry, candidates=cands, columns=gutters)
    t0 = time.perf_counter()
    asset_build_derivatives(asset_id=item.item_assets.first().asset_id)
    tiling = time.perf_counter() - t0
    make_user("operator", username="olga")
    page = login("olga")
    page.goto(f"{asgi_server}/projects/{item.project.slug}/")
    page.keyboard.press("n")
    page.wait_for_url(f"**/items/{item.pk}/")
    open_workspace(page, page.url)
    synced(page)
    page.keyboard.press("x")
    page.evaluate("""() => { window.__frames = [];
        const tick = (t) => { window.__frames.push([t, window.LOUPE_WS.editor.frames()]);
        if (window.__frames.length < 100000) requestAnimationFrame(tick); }; requestAnimationFrame(tick); }""")
    start = page.evaluate("window.__frames.length")
    (sx, sy), (ex, ey) = to_screen(page, 400, 3000), to_screen(page, 6400, 3400)
    page.mouse.move(sx, sy)
    page.mouse.down()
    page.mouse.move(ex, ey, steps=240)  # one call: the moves go to the browser as fast as it takes them
    page.mouse.up()
    frames = page.evaluate(f"window.__frames.slice({start})")
    # frames of the drag: from the first redraw to the last one
    moving = [t for (t, n), (_, m) in zip(frames, frames[1:]) if m > n]
    span = (moving[-1] - moving[0]) / 1000 if len(moving) > 1 else 0
    fps = (len(moving) - 1) / span if span else 0
    intervals = sorted(b - a for a, b in zip(moving, moving[1:]))
    p95 = intervals[int(0.95 * (len(intervals) - 1))] if intervals else 0
    with capsys.disabled():
        print(f"\ncut drag on a {w}x{h} page ({len(cands)} cuts): {len(moving)} redrawn frames in {span:.2f} s = "
              f"{fps:.1f} fps, 95th percentile frame interval {p95:.1f} ms (tiling {tiling:.1f} s)")
    shot(page, "articles-10-broadsheet-drag")
    assert fps >= 30, fps
