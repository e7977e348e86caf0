"""Membership: what each role sees of the projects, the members API and command, hidden server paths."""
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from webapp.accounts.models import ProjectMembership
from webapp.labeling.services import lease_take_next, revision_submit

pytestmark = pytest.mark.django_db


def test_a_user_with_no_role_sees_nothing(make_project, make_item, make_user, api_for, client):
    project = make_project()
    item = make_item(project)
    nobody = make_user("none")
    api = api_for(nobody)
    assert api.get("/api/v1/projects/").json() == []
    assert api.get("/api/v1/me/").json() == {"username": nobody.username, "roles": [], "projects": {}}
    for url in [f"/api/v1/projects/{project.pk}/", f"/api/v1/projects/{project.pk}/items/",
                f"/api/v1/projects/{project.pk}/export/", f"/api/v1/items/{item.pk}/",
                f"/api/v1/items/{item.pk}/revisions/", f"/api/v1/items/{item.pk}/predictions/",
                f"/api/v1/assets/{item.item_assets.first().asset_id}/"]:
        assert api.get(url).status_code == 404, url  # the same answer as for something that does not exist
    for url in ["/api/v1/models/", "/api/v1/promotions/", "/api/v1/training-runs/"]:
        assert api.get(url).status_code == 403, url
    client.force_login(nobody)
    page = client.get("/projects/").content.decode()
    assert project.name not in page and "/models/" not in page
    assert client.get(f"/items/{item.pk}/").status_code == 404
    assert client.get(f"/projects/{project.slug}/").status_code == 404


def test_an_operator_works_only_in_their_projects(make_project, make_item, make_user, api_for):
    mine, theirs = make_project(), make_project(members=False)
    make_item(mine), make_item(theirs)
    operator = make_user("operator")
    api = api_for(operator)
    assert [p["id"] for p in api.get("/api/v1/projects/").json()] == [mine.pk]
    assert api.get("/api/v1/me/").json()["projects"] == {str(mine.pk): "operator"}
    assert api.post(f"/api/v1/projects/{theirs.pk}/take-next/").status_code == 404
    assert api.get(f"/api/v1/projects/{theirs.pk}/export/").status_code == 404
    assert api.post(f"/api/v1/projects/{theirs.pk}/upload/", {}, format="multipart").status_code == 404
    theirs_item = theirs.items.get()
    assert api.post(f"/api/v1/items/{theirs_item.pk}/repredict/").status_code == 404
    assert api.post(f"/api/v1/projects/{mine.pk}/take-next/").status_code == 200


def test_operators_and_reviewers_do_not_read_the_registry(make_project, make_item, make_user, api_for, client):
    from webapp.labeling.services import prediction_record
    from webapp.mlops.services import model_version_register

    project = make_project()
    item = make_item(project)
    version = model_version_register(kind="catheter", scope_key="", artifact_uri="/srv/models/catheter/v7")
    prediction_record(item_id=item.pk, model_version_id=version.pk,
                      payload={"verdict": "ok", "shots": [{"defects": []}]}, scores={}, uncertainty=0.2)
    for role in ("operator", "reviewer"):
        user = make_user(role)
        api = api_for(user)
        assert api.get("/api/v1/models/").status_code == 403
        assert api.get(f"/api/v1/models/{version.pk}/").status_code == 403
        assert api.get("/api/v1/training-runs/").status_code == 403
        # What they do see of a model (the proposal's version) carries no server path.
        seen = api.get(f"/api/v1/items/{item.pk}/predictions/")
        assert seen.status_code == 200 and "/srv/models" not in seen.content.decode()
        client.force_login(user)
        assert client.get("/models/").status_code == 403
        assert 'href="/models/"' not in client.get("/projects/").content.decode()
    admin = api_for(make_user("admin"))
    assert admin.get("/api/v1/models/").json()["results"][0]["artifact_uri"] == "/srv/models/catheter/v7"


def test_members_api(make_project, make_user, api_for):
    project = make_project(members=False)
    admin, operator = make_user("admin"), make_user("operator", member=False)
    url = f"/api/v1/projects/{project.pk}/members/"
    assert api_for(operator).get(url).status_code == 404
    added = api_for(admin).post(url, {"user": operator.username}, format="json")
    assert added.status_code == 201 and added.json()["role"] == "operator"  # the account's role
    assert api_for(operator).get(f"/api/v1/projects/{project.pk}/").status_code == 200
    assert api_for(operator).get(url).status_code == 403  # a member, but managing is for admins
    promoted = api_for(admin).post(url, {"user": operator.username, "role": "reviewer"}, format="json")
    assert promoted.status_code == 201 and ProjectMembership.objects.get(user=operator).role == "reviewer"
    bad = api_for(admin).post(url, {"user": "ghost", "role": "king"}, format="json")
    assert bad.status_code == 400 and {"user", "role"} <= set(bad.json())
    assert [m["username"] for m in api_for(admin).get(url).json()] == [operator.username]
    assert api_for(admin).delete(f"{url}{operator.pk}/").status_code == 204
    assert api_for(admin).delete(f"{url}{operator.pk}/").status_code == 404
    assert api_for(operator).get(f"/api/v1/projects/{project.pk}/").status_code == 404


def test_member_command(make_project, make_user, capsys):
    project = make_project(members=False)
    reviewer = make_user("reviewer", member=False)
    call_command("project_member", "add", "--project", project.slug, "--user", reviewer.username)
    call_command("project_member", "list", "--project", project.slug)
    assert f"{reviewer.username}\treviewer" in capsys.readouterr().out
    call_command("project_member", "remove", "--project", project.slug, "--user", reviewer.username)
    assert not ProjectMembership.objects.exists()
    with pytest.raises(CommandError):
        call_command("project_member", "add", "--project", "no-such", "--user", reviewer.username)
    with pytest.raises(CommandError):
        call_command("project_member", "add", "--project", project.slug, "--user", make_user("none").username)


def test_a_reviewer_in_one_project_is_an_operator_in_another(make_project, make_item, make_user):
    from webapp.accounts.services import project_member_add
    from webapp.core.errors import NotAllowed
    from webapp.labeling.services import review_submit

    first, second = make_project(members=False), make_project(members=False)
    author, user = make_user("operator", member=False), make_user("reviewer", member=False)
    for project in (first, second):
        project_member_add(project_id=project.pk, user=author)
        make_item(project)
    project_member_add(project_id=first.pk, user=user, role="reviewer")
    project_member_add(project_id=second.pk, user=user, role="operator")
    for project in (first, second):
        lease = lease_take_next(project_id=project.pk, user=author)
        revision_submit(item_id=lease.item_id, user=author, annotation={"verdict": "ok", "shots": [{"defects": []}]},
                        base_revision=None)
    assert review_submit(item_id=first.items.get().pk, reviewer=user, decision="accept").decision == "accept"
    with pytest.raises(NotAllowed):
        review_submit(item_id=second.items.get().pk, reviewer=user, decision="accept")


def test_every_permission_target_finds_its_project(make_project, make_item, make_user):
    from webapp.accounts.selectors import TARGET_MODELS, projects_of_target
    from webapp.labeling.services import prediction_record
    from webapp.mlops.services import model_version_register

    project = make_project()
    item = make_item(project)
    lease = lease_take_next(project_id=project.pk, user=make_user())
    version = model_version_register(kind="catheter", scope_key="", artifact_uri="/tmp/v1")
    prediction, _ = prediction_record(item_id=item.pk, model_version_id=version.pk, scores={}, uncertainty=0.1,
                                      payload={"verdict": "ok", "shots": [{"defects": []}]})
    from webapp.labeling.models import Flag

    flag = Flag.objects.create(item=item, author=lease.holder, reason="other", comment="?", return_state="new")
    named = {"project": project.pk, "project_slug": project.slug, "item": item.pk, "lease": lease.token,
             "prediction": prediction.pk, "asset": item.item_assets.get().asset_id, "flag": flag.pk}
    assert set(named) == set(TARGET_MODELS)
    for target, value in named.items():
        assert projects_of_target(target=target, value=value) == [project.pk], target
        assert projects_of_target(target=target, value=10**30 if target != "lease" else "not-a-uuid") == [], target
