"""Markup typed by one user reaches another's browser as text. A defect id once rendered as HTML in the
reviewer's defect list (only the CSP stopped its script); ids now follow the XML-id grammar on the server,
and the pages build text nodes. Here the markup is put where the server would no longer let it in (a
revision stored before the grammar) and where it still may go (a review comment), and the browser must
show it as written and run none of it."""
import pytest

from webapp.labeling.models import Revision
from webapp.labeling.services import lease_take_next, revision_submit
from webapp.labeling.services.reviews import review_submit

from .workspace_helpers import open_workspace, shot, write_shot

pytestmark = [pytest.mark.browser, pytest.mark.slow]
MARKUP = '<img src=x onerror="window.__injected=1">'


def test_a_defect_id_and_a_comment_with_markup_show_as_text(login, asgi_server, make_project, make_asset,
                                                             make_user, settings, tmp_path):
    from webapp.labeling.services import item_create

    settings.MEDIA_ROOT = str(tmp_path / "media")
    project = make_project(name="Line A")
    asset = make_asset(width=800, height=600)
    write_shot(asset)
    item = item_create(project=project, asset_ids=[asset.pk])
    olga = make_user("operator", username="olga")
    rita = make_user("reviewer", username="rita")
    lease_take_next(project_id=project.pk, user=olga)
    revision_submit(item_id=item.pk, user=olga, base_revision=None, annotation={
        "verdict": "defect", "shots": [{"defects": [{"type": "bubble", "box": [100, 100, 160, 150], "id": "d1"}]}]})
    # As stored before ids had a grammar: the markup id is in the revision itself.
    revision = Revision.objects.get(item=item)
    revision.annotation["shots"][0]["defects"][0]["id"] = MARKUP
    Revision.objects.filter(pk=revision.pk).update(annotation=revision.annotation)

    page = login("rita")
    open_workspace(page, f"{asgi_server}/items/{item.pk}/")
    page.wait_for_selector("#defect-list .defect")
    assert MARKUP in page.inner_text("#defect-list")
    assert page.locator("#defect-list img").count() == 0
    shot(page, "markup-defect-id-as-text")

    review_submit(item_id=item.pk, reviewer=rita, decision="send_back", comment=f"Look again {MARKUP}")
    operator = login("olga")
    operator.goto(f"{asgi_server}/projects/{project.slug}/")
    operator.keyboard.press("n")
    operator.wait_for_url(f"**/items/{item.pk}/")
    open_workspace(operator, operator.url)
    operator.wait_for_selector("#sent-back:not([hidden])")
    assert MARKUP in operator.inner_text("#sent-back-comment")
    assert operator.locator("#sent-back-comment img").count() == 0
    for p in (page, operator):
        assert p.evaluate("window.__injected") is None
