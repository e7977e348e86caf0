"""The workspace page alone allows 'unsafe-eval' (its drawing library needs it); inline scripts stay nonce-only."""


def test_only_the_item_page_widens_script_src(make_project, make_item, operator, client):
    item = make_item(make_project())
    client.force_login(operator)
    page = client.get(f"/items/{item.pk}/")["Content-Security-Policy"]
    assert "script-src 'unsafe-eval' 'self' 'nonce-" in page and "'unsafe-inline'" not in page.split(";")[1]
    assert "'unsafe-eval'" not in client.get("/projects/")["Content-Security-Policy"]
