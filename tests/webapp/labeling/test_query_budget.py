"""Queries per take-next and per submit over the API: a budget, so that a change that adds round trips to
the two calls every operator makes all day fails here instead of slowing the queue silently.

With a warm access cache (the first call of a token fills it) a take-next on PostgreSQL is one statement,
and a submit is the item (with its image sizes) and one statement (plus the savepoint the test's transaction
needs around it). Other databases take the general path, with its own budget."""
from django.db import connection
from django.test.utils import CaptureQueriesContext

ANNOTATION = {"verdict": "defect", "shots": [{"defects": [{"type": "axial_scratch", "box": [10, 20, 60, 200]}]}]}

# (take-next, submit) queries with a warm access cache. A submit that accepts at once (no review) also reads
# the item's model proposal for the suspect-label check: inside its one read on PostgreSQL, one more elsewhere.
BUDGET = {"postgresql": (1, 4), "sqlite": (9, 10)}


def _sql(captured) -> str:
    return "\n".join(q["sql"][:200] for q in captured)


def test_take_next_and_submit_stay_within_their_query_budget(make_project, make_item, operator, api_for):
    take_budget, submit_budget = BUDGET[connection.vendor]
    project = make_project(queue_policy="fifo", audit_share=0.5, review_required=False)
    for _ in range(4):
        make_item(project)
    api = api_for(operator)
    assert api.get(f"/api/v1/projects/{project.pk}/").status_code == 200   # fills the access cache
    for _ in range(3):
        with CaptureQueriesContext(connection) as captured:
            taken = api.post(f"/api/v1/projects/{project.pk}/take-next/")
        take = list(captured.captured_queries)
        assert taken.status_code == 200
        item = taken.json()["item"]
        api.get(f"/api/v1/items/{item}/")   # the workspace opens the item (and learns its project)
        with CaptureQueriesContext(connection) as captured:
            saved = api.post(f"/api/v1/items/{item}/revisions/", {"annotation": ANNOTATION, "base_revision": None},
                             format="json")
        submit = list(captured.captured_queries)
        assert saved.status_code == 201, saved.content
        # At least one each: the capture must see the calls' statements, or the budget would hold vacuously.
        assert 1 <= len(take) <= take_budget, f"take-next ran {len(take)} queries:\n{_sql(take)}"
        assert 1 <= len(submit) <= submit_budget, f"submit ran {len(submit)} queries:\n{_sql(submit)}"


def test_a_removed_member_is_refused_at_once_despite_the_cache(make_project, make_item, operator, api_for):
    from webapp.accounts.services import project_member_remove

    project = make_project()
    make_item(project)
    api = api_for(operator)
    assert api.get(f"/api/v1/projects/{project.pk}/").status_code == 200
    project_member_remove(project_id=project.pk, user_id=operator.pk)
    assert api.post(f"/api/v1/projects/{project.pk}/take-next/").status_code == 404


def test_a_new_member_and_a_new_admin_are_served_at_once(make_project, make_user, api_for):
    from django.contrib.auth.models import Group

    from webapp.accounts.services import project_member_add

    project = make_project()
    outsider = make_user("operator", member=False)
    api = api_for(outsider)
    assert api.get(f"/api/v1/projects/{project.pk}/").status_code == 404
    project_member_add(project_id=project.pk, user=outsider)
    assert api.get(f"/api/v1/projects/{project.pk}/").status_code == 200
    other = make_project(members=False)
    assert api.get(f"/api/v1/projects/{other.pk}/").status_code == 404
    outsider.groups.add(Group.objects.get(name="admin"))
    assert api.get(f"/api/v1/projects/{other.pk}/").status_code == 200


def test_a_deleted_token_or_a_deactivated_user_is_refused_at_once(make_project, operator, api_for):
    from rest_framework.authtoken.models import Token

    project = make_project()
    api = api_for(operator)
    assert api.get(f"/api/v1/projects/{project.pk}/").status_code == 200
    operator.is_active = False
    operator.save()
    assert api.get(f"/api/v1/projects/{project.pk}/").status_code == 401
    operator.is_active = True
    operator.save()
    assert api.get(f"/api/v1/projects/{project.pk}/").status_code == 200
    Token.objects.filter(user=operator).delete()
    assert api.get(f"/api/v1/projects/{project.pk}/").status_code == 401



def test_a_change_reaches_the_other_processes_caches_over_redis(make_project, operator):
    """Another process's cache (a second instance with its own listener) forgets the user when this one
    announces a membership change."""
    import time

    from webapp.accounts.access_cache import AccessCache, user_with_access
    from webapp.accounts.services import project_member_remove

    project = make_project()
    other = AccessCache()
    assert other.get("digest-of-a-token") is None          # starts its listener and waits for the subscription
    read_since, generation = other.snapshot()
    other.put("digest-of-a-token", user_with_access(operator), read_since=read_since, generation=generation)
    assert other.get("digest-of-a-token").pk == operator.pk
    project_member_remove(project_id=project.pk, user_id=operator.pk)
    deadline = time.monotonic() + 5
    while other.get("digest-of-a-token") is not None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert other.get("digest-of-a-token") is None


def test_the_written_out_answers_equal_the_serializers_fields(make_project, make_item, operator, api_for):
    """Take-next and submit answer without building ModelSerializer fields: the same JSON as those give."""
    from rest_framework import serializers

    from webapp.labeling.models import Lease, Revision
    from webapp.labeling.serializers import LeaseSerializer, RevisionSerializer

    project = make_project(review_required=False)
    make_item(project)
    api = api_for(operator)
    taken = api.post(f"/api/v1/projects/{project.pk}/take-next/").json()
    lease = Lease.objects.get(token=taken["token"])
    assert taken == serializers.ModelSerializer.to_representation(LeaseSerializer(lease), lease)
    saved = api.post(f"/api/v1/items/{taken['item']}/revisions/", {"annotation": ANNOTATION, "base_revision": None},
                     format="json").json()
    revision = Revision.objects.get(item_id=taken["item"], number=saved["number"])
    generic = serializers.ModelSerializer.to_representation(RevisionSerializer(revision), revision)
    assert saved == generic
