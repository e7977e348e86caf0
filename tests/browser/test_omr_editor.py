"""The OMR alignment editor in a real browser, with a real infer worker: the operator opens a chorale pair
whose photo is curled (the proposal says "review"), switches blend / checkerboard / difference, places four
point pairs with the mouse on the original and the photo, recomputes on the server (the worker answers over
the socket), sees the fix's metrics beside the proposal's, and submits the fix; the reviewer accepts it.
Screenshots go to artifacts/screenshots (omr-*.png)."""
import subprocess
import sys
import time
import uuid

import numpy as np
import pytest

from webapp.labeling.models import ItemState, Revision, WorkItem

from .workspace_helpers import ROOT, open_workspace, shot, to_screen

pytestmark = [pytest.mark.browser, pytest.mark.slow]
CURL = 2   # index in ml.omr.demo.KIND_CYCLE


@pytest.fixture
def omr_pair_item(make_project):
    """A demo chorale pair through the asset pipeline, with the OMR adapter's real proposal recorded."""
    import io

    from PIL import Image

    from ml.omr.predict import Predictor
    from webapp.assets.services import asset_build_derivatives, asset_ingest
    from webapp.labeling.services import item_create, predictions_record_batch
    from webapp.mlops.services import model_version_register
    from workers.adapters import get_adapter
    from workers.demo_sources import omr_pair
    from workers.itemdata import load_items

    def png(array):
        out = io.BytesIO()
        Image.fromarray(array).save(out, format="PNG")
        return out.getvalue()

    project = make_project("omr", name="Chorales", review_required=True)
    pair = omr_pair(CURL, 7)
    assets = [asset_ingest(data=png(im), name=f"omr-{role}.png")[0]
              for role, im in (("original", pair.original.image), ("photo", pair.photo))]
    for a in assets:
        asset_build_derivatives(asset_id=a.pk)
    item = item_create(project=project, asset_ids=[a.pk for a in assets], roles=["original", "photo"],
                       external_id="chorale-curl", meta=pair.meta())
    adapter = get_adapter("omr")
    version = model_version_register(kind="omr", scope_key=project.scope_key, artifact_uri="/nonexistent/alignment")
    loaded = load_items([item.pk], mode=adapter.image_mode)
    proposal, = adapter.predict(Predictor.load(None, device="cpu"), loaded, 1)
    outcome = predictions_record_batch(model_version_id=version.pk, rows=[{
        "item_id": item.pk, "payload": proposal.annotation, "scores": proposal.scores,
        "uncertainty": proposal.uncertainty}])
    assert outcome["created"] == [item.pk], outcome
    return item, pair, proposal


@pytest.fixture
def infer_worker(subprocess_env, tmp_path):
    from webapp.config.celery import app

    name = f"omr-ui-{uuid.uuid4().hex[:6]}"
    log = tmp_path / "worker.log"
    proc = subprocess.Popen([sys.executable, "-m", "celery", "-A", "webapp.config.celery", "worker", "--pool", "solo",
                             "-Q", "infer", "-n", f"{name}@%h", "-l", "INFO"], cwd=ROOT,
                            env=dict(subprocess_env, OMP_NUM_THREADS="1"), stdout=open(log, "w"),
                            stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 90
    while not any(name in n for reply in (app.control.ping(timeout=0.5) or []) for n in reply):
        assert proc.poll() is None and time.monotonic() < deadline, log.read_text()
    proc.log_path = log
    yield proc
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()


def photo_screen(page, x, y):
    return tuple(page.evaluate("([x, y]) => window.LOUPE_OMR.photo.toScreen(x, y)", [x, y]))


def test_operator_fixes_a_curled_page_with_point_pairs_and_reviewer_accepts(
        login, asgi_server, omr_pair_item, infer_worker, make_user):
    item, pair, proposal = omr_pair_item
    assert proposal.scores["verdict"] == "review"
    make_user("operator", username="otto")
    make_user("reviewer", username="rita")
    page = login("otto")
    page.goto(f"{asgi_server}/projects/{item.project.slug}/")
    page.keyboard.press("n")
    page.wait_for_url(f"**/items/{item.pk}/")
    open_workspace(page, page.url)
    page.wait_for_selector("body[data-composite=ready]")
    # the proposal's metrics with its verdict and reasons; matches drawn as lines; symbols on the photo
    assert page.inner_text("#omr-metrics td[data-source=proposal][data-metric=verdict]") == "review"
    assert "page curl" in page.inner_text("#omr-metrics td[data-source=proposal][data-metric=reasons]")
    assert int(page.get_attribute("#match-lines", "data-drawn")) > 10
    assert int(page.get_attribute("#photo-view .omr-symbols", "data-count")) > 400
    zoom = page.evaluate("(v => [v.getZoom(true), v.getHomeZoom()])(window.LOUPE_WS.viewer.osd.viewport)")
    assert abs(zoom[0] - zoom[1]) < 0.01 * zoom[1], zoom   # the page fills the original's half, not the old width
    shot(page, "omr-01-blend")
    for key, mode in (("2", "checker"), ("3", "difference"), ("1", "blend")):
        page.keyboard.press(key)
        page.wait_for_selector(f"body[data-omr-mode={mode}]")
        assert page.get_attribute("canvas.omr-composite", "data-mode") == mode
        if mode != "blend":
            shot(page, f"omr-02-{mode}")
    # linked views: zooming the original zooms the photo onto the same place
    page.keyboard.press("+")
    page.keyboard.press("+")
    W, H = pair.original.size
    centre, last = None, None
    for _ in range(40):   # until both viewers stop moving (a loaded machine animates slowly)
        page.wait_for_timeout(250)
        centre = page.evaluate("""() => { const v = window.LOUPE_WS.viewer.osd, p = window.LOUPE_OMR.photo.osd;
            const c = (x) => x.world.getItemAt(0).viewportToImageCoordinates(x.viewport.getCenter(true));
            return [c(v).x, c(v).y, c(p).x, c(p).y, v.viewport.getZoom(true)]; }""")
        if centre == last:
            break
        last = centre
    expected = pair.mapping.page_to_photo(np.array([centre[:2]]))[0]
    assert np.hypot(*(np.array(centre[2:4]) - expected)) < 25, (centre, expected)
    page.keyboard.press("0")
    page.wait_for_timeout(400)

    # four point pairs with the mouse: a spot on the original, then the same spot on the photo
    page.keyboard.press("t")
    spots = np.array([[0.15 * W, 0.12 * H], [0.85 * W, 0.12 * H], [0.8 * W, 0.55 * H], [0.2 * W, 0.55 * H]])
    for (xo, yo), (xp, yp) in zip(spots, pair.mapping.page_to_photo(spots)):
        page.mouse.click(*to_screen(page, xo, yo))
        page.mouse.click(*photo_screen(page, xp, yp))
    page.wait_for_function("window.LOUPE_WS.annotation().point_pairs.length === 4")
    shot(page, "omr-03-pairs")
    placed = np.array(page.evaluate("window.LOUPE_WS.annotation().point_pairs"))
    assert np.abs(placed[:, 0] - spots).max() < 6, placed

    # recompute on the server: the worker's metrics arrive over the socket, beside the proposal's
    page.keyboard.press("u")
    page.wait_for_selector("body[data-recompute=done]", timeout=60000)
    assert page.evaluate("document.body.dataset.recomputeVia") == "socket", infer_worker.log_path.read_text()[-3000:]
    fixed = page.evaluate("window.LOUPE_WS.annotation()")
    result = page.evaluate("window.LOUPE_OMR.fix().result")
    assert fixed["status"] == "fixed" and fixed["homography"] == result["homography"]
    fix_inliers = page.inner_text("#omr-metrics td[data-source=fix][data-metric=inliers]")
    assert fix_inliers not in ("—", "") and result["metrics"]["operator_residual_max"] is not None
    assert page.inner_text("#omr-metrics td[data-source=fix][data-metric=verdict]") == result["verdict"]
    assert result["metrics"] != proposal.scores["metrics"]
    shot(page, "omr-04-recomputed")
    page.keyboard.press("Control+Enter")
    page.wait_for_function("document.body.dataset.workspace === 'ready' && location.search.includes('saved=1')")
    rev = Revision.objects.get(item=item, number=1)
    assert rev.annotation["status"] == "fixed" and len(rev.annotation["point_pairs"]) == 4
    # the server stored the fix's figures with it: the worker's measure of exactly this homography
    assert rev.metrics["alignment_source"] == "recompute" and rev.metrics["alignment"] == result["metrics"]
    assert rev.metrics["verdict"] == result["verdict"] and rev.metrics["corner_shift_max"] > 0
    assert WorkItem.objects.get(pk=item.pk).state == ItemState.SUBMITTED

    reviewer = login("rita")
    # What the review needs is the workspace, the composite and the diff; not every tile of the original
    # (under the full suite's load the viewer was seen not to report its tiles complete, nothing loading).
    reviewer.bring_to_front()
    reviewer.goto(f"{asgi_server}/items/{item.pk}/")
    reviewer.wait_for_selector("body[data-workspace=ready]")
    reviewer.wait_for_selector("#review-box:not([hidden])")
    reviewer.wait_for_selector("body[data-composite=ready]")
    assert reviewer.inner_text("#omr-status").startswith("Fixed")
    assert "moves the page corners by up to" in reviewer.inner_text("#omr-moved")
    assert "4 added" in reviewer.inner_text("#diff-summary")
    assert "The answer" in reviewer.inner_text("#omr-metrics tr:first-child")   # not "Your fix": not the reviewer's
    # the fix's metrics as the server stored them, beside the proposal's: no dashes
    fix_cell = "#omr-metrics td[data-source=fix][data-metric={}]".format
    assert reviewer.inner_text(fix_cell("verdict")) == result["verdict"]
    assert reviewer.inner_text(fix_cell("inliers")) == fix_inliers
    assert reviewer.inner_text(fix_cell("corner_shift_max")) == f"{rev.metrics['corner_shift_max']:.2f}"
    assert reviewer.inner_text(fix_cell("symbols_moved")) == str(rev.metrics["symbols_moved"])
    assert reviewer.get_attribute("#omr-metrics", "data-recorded") == "all"
    shot(reviewer, "omr-05-review")
    # a revision from before the figures were stored says so rather than showing dashes
    Revision.objects.filter(pk=rev.pk).update(metrics=None)
    reviewer.reload()
    reviewer.wait_for_selector("body[data-workspace=ready]")
    reviewer.wait_for_selector("#review-box:not([hidden])")
    assert reviewer.get_attribute("#omr-metrics", "data-recorded") == "none"
    # said once, in one cell over every row it covers, not on each row
    unrecorded = reviewer.locator("#omr-metrics td[data-source=fix]")
    assert unrecorded.count() == 1 and unrecorded.inner_text() == "not recorded"
    rows = reviewer.locator("#omr-metrics tr").count() - 1
    assert unrecorded.get_attribute("rowspan") == str(rows)
    assert {"verdict", "inliers", "symbols_moved"} <= set(unrecorded.get_attribute("data-covers").split())
    assert reviewer.locator("#omr-metrics").inner_text().count("not recorded") == 1
    shot(reviewer, "omr-05b-review-not-recorded")
    reviewer.keyboard.press("a")
    reviewer.wait_for_function("document.body.dataset.workspace === 'ready' && "
                               "document.querySelector('#item-state').textContent === 'accepted'")
    assert WorkItem.objects.get(pk=item.pk).state == ItemState.ACCEPTED
    assert infer_worker.poll() is None
