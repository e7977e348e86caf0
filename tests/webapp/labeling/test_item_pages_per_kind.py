"""Each kind's item page renders: catheter and articles as the workspace (viewer, editor module, vendor
libraries), OMR with the JSON editor until its editor lands."""
import pytest


@pytest.mark.parametrize("kind", ["catheter", "articles", "omr"])
def test_item_page_renders_per_kind(client, make_project, make_item, make_user, kind):
    item = make_item(make_project(kind=kind))
    user = make_user("operator")
    client.force_login(user)
    r = client.get(f"/items/{item.pk}/")
    assert r.status_code == 200
    body = r.content.decode()
    if kind in ("catheter", "articles"):
        assert "data-viewer" in body and f"js/editors/{kind}.js" in body and "vendor/annotorious" in body
    else:
        assert 'id="editor"' in body and "js/item.js" in body
    if kind == "articles":
        assert 'data-tool="cut"' in body and 'id="threshold"' in body and "css/articles.css" in body
