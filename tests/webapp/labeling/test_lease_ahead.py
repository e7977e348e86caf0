"""Leasing ahead: the operator holds the item they work on plus the one after it, never more; nobody else
gets either; skips, control items, release and expiry work as for any lease; moving on makes the lease ahead
the current one."""
import threading

import pytest
from django.db import connection

from webapp.core.errors import Conflict
from webapp.labeling.models import ControlAnswer, ItemState, Lease, WorkItem
from webapp.labeling.services import (
    item_skip, lease_expire_stale, lease_release, lease_take_ahead, lease_take_next, revision_submit,
)
from webapp.labeling.services.controls import control_mark

EMPTY = {"verdict": "ok", "shots": [{"defects": []}]}


def _open(user):
    return list(Lease.objects.filter(holder=user, ended_at__isnull=True).order_by("id"))


def test_the_item_after_the_current_one_is_leased_ahead_once(make_project, make_item, operator):
    project = make_project(queue_policy="fifo")
    first, second, third = make_item(project), make_item(project), make_item(project)
    current = lease_take_next(project_id=project.pk, user=operator)
    ahead = lease_take_ahead(project_id=project.pk, user=operator)
    assert (current.item_id, ahead.item_id) == (first.pk, second.pk)
    assert ahead.is_ahead and not current.is_ahead
    second.refresh_from_db()
    assert second.state == ItemState.LEASED and second.lease_holder == operator
    # asked again (a reload, a second tab): the same lease ahead, never a third item
    assert lease_take_ahead(project_id=project.pk, user=operator).token == ahead.token
    assert lease_take_next(project_id=project.pk, user=operator).token == current.token  # the current first
    assert [lease.item_id for lease in _open(operator)] == [first.pk, second.pk]
    third.refresh_from_db()
    assert third.state == ItemState.NEW


def test_nothing_is_leased_ahead_of_nothing(make_project, make_item, operator):
    project = make_project()
    make_item(project)
    with pytest.raises(Conflict):
        lease_take_ahead(project_id=project.pk, user=operator)
    assert _open(operator) == []


def test_moving_on_makes_the_lease_ahead_the_current_one(make_project, make_item, operator):
    project = make_project(queue_policy="fifo")
    items = [make_item(project) for _ in range(4)]
    current = lease_take_next(project_id=project.pk, user=operator)
    ahead = lease_take_ahead(project_id=project.pk, user=operator)
    revision_submit(item_id=current.item_id, user=operator, annotation=EMPTY, base_revision=None)
    # take-next gives the lease ahead back, as the current item
    moved = lease_take_next(project_id=project.pk, user=operator)
    assert moved.token == ahead.token and not moved.is_ahead
    assert Lease.objects.get(pk=ahead.pk).ahead_in_id is None
    following = lease_take_ahead(project_id=project.pk, user=operator)
    assert following.item_id == items[2].pk and following.is_ahead
    # or straight on: the next call ahead finds no current item and moves the operator on to the one ahead
    revision_submit(item_id=moved.item_id, user=operator, annotation=EMPTY, base_revision=None)
    after = lease_take_ahead(project_id=project.pk, user=operator)
    assert after.item_id == items[3].pk
    assert [(lease.item_id, lease.is_ahead) for lease in _open(operator)] == [(items[2].pk, False), (items[3].pk, True)]


def test_nobody_else_gets_an_item_leased_ahead_until_it_is_let_go(make_project, make_item, make_user, expire_lease):
    project = make_project(queue_policy="fifo")
    first, second = make_item(project), make_item(project)
    olga, otto = make_user(), make_user()
    lease_take_next(project_id=project.pk, user=olga)
    ahead = lease_take_ahead(project_id=project.pk, user=olga)
    assert lease_take_next(project_id=project.pk, user=otto) is None
    lease_release(token=ahead.token, user=olga)  # the page was closed: back to the queue at once
    assert lease_take_next(project_id=project.pk, user=otto).item_id == second.pk
    # an ahead lease nobody beats expires like any other
    third = make_item(project)
    again = lease_take_ahead(project_id=project.pk, user=olga)
    assert again.item_id == third.pk
    expire_lease(again)
    assert lease_expire_stale() == 1
    third.refresh_from_db()
    assert third.state == ItemState.NEW and third.lease_holder is None
    assert first.pk not in {lease.item_id for lease in _open(otto)}


def test_a_skipped_item_is_not_leased_ahead_again(make_project, make_item, operator):
    project = make_project(queue_policy="fifo")
    first, _second, third = make_item(project), make_item(project), make_item(project)
    lease_take_next(project_id=project.pk, user=operator)
    lease_take_ahead(project_id=project.pk, user=operator)
    item_skip(item_id=first.pk, user=operator)
    # the operator moved on to the second; the skipped first waits out its cool-down for them
    assert lease_take_ahead(project_id=project.pk, user=operator).item_id == third.pk
    assert lease_take_ahead(project_id=project.pk, user=operator).item_id == third.pk


def test_a_control_item_may_be_leased_ahead_blind(make_project, make_item, make_user):
    project = make_project("catheter", review_required=False, control_rate=1.0)
    author, admin, operator = make_user(), make_user("admin"), make_user()
    for _ in range(3):
        make_item(project)
    lease = lease_take_next(project_id=project.pk, user=author)
    revision_submit(item_id=lease.item_id, user=author, annotation=EMPTY, base_revision=None)
    control = control_mark(item_id=lease.item_id, user=admin)
    current = lease_take_next(project_id=project.pk, user=operator)
    assert WorkItem.objects.get(pk=current.item_id).control_copy  # rate 1: the control first
    ahead = lease_take_ahead(project_id=project.pk, user=operator)
    assert ahead.is_ahead and not WorkItem.objects.get(pk=ahead.item_id).control_copy  # served once only
    assert ControlAnswer.objects.filter(control=control, operator=operator).count() == 1


@pytest.mark.django_db(transaction=True)
def test_racing_calls_of_one_operator_lease_one_item_ahead(make_project, make_item, make_user):
    project = make_project()
    for _ in range(12):
        make_item(project)
    operator = make_user()
    lease_take_next(project_id=project.pk, user=operator)
    tokens, errors = [], []
    barrier = threading.Barrier(8)

    def race():
        try:
            barrier.wait()
            tokens.append(lease_take_ahead(project_id=project.pk, user=operator).token)
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=race) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # SQLite serialises writers; a call that finds the database busy fails cleanly, never with a third lease
    assert tokens and len(set(tokens)) == 1, (tokens, errors)
    assert len(_open(operator)) == 2
    assert WorkItem.objects.filter(project=project, state=ItemState.LEASED).count() == 2


def test_the_api_leases_ahead_and_says_so(make_project, make_item, operator, api_for):
    project = make_project(queue_policy="fifo")
    first, second = make_item(project), make_item(project)
    api = api_for(operator)
    url = f"/api/v1/projects/{project.pk}/take-next/"
    refused = api.post(url + "?ahead=true")
    assert refused.status_code == 409 and "take one first" in refused.json()["detail"]
    assert api.post(url + "?ahead=yes").status_code == 400
    taken = api.post(url).json()
    assert taken["item"] == first.pk and taken["ahead"] is False
    ahead = api.post(url + "?ahead=true&expand=item").json()
    assert ahead["item"] == second.pk and ahead["ahead"] is True
    assert ahead["detail"]["id"] == second.pk and ahead["detail"]["lease"]["token"] == ahead["token"]
    assert api.post(url + "?ahead=true").json()["token"] == ahead["token"]  # asked again: the same one
    # the item page finds the lease ahead: the workspace opens it editable
    assert api.get(f"/api/v1/items/{second.pk}/").json()["lease"]["token"] == ahead["token"]
