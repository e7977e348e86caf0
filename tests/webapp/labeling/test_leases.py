import random
import threading

import pytest
from django.db import connection

from webapp.core.errors import Gone, NotFound
from webapp.labeling.models import ItemState, Lease, WorkItem
from webapp.labeling.services import (
    lease_expire_stale, lease_heartbeat, lease_release, lease_take_next, prediction_record,
)
from webapp.mlops.services import model_version_register


def test_fifo_gives_items_in_creation_order(make_project, make_item, make_user):
    project = make_project(queue_policy="fifo")
    items = [make_item(project) for _ in range(3)]
    got = [lease_take_next(project_id=project.pk, user=make_user()).item_id for _ in range(3)]
    assert got == [i.pk for i in items]
    assert lease_take_next(project_id=project.pk, user=make_user()) is None


def test_uncertainty_policy_takes_most_uncertain_first_and_unpredicted_last(make_project, make_item, make_user):
    project = make_project(queue_policy="uncertainty")
    plain, low, high = make_item(project), make_item(project), make_item(project)
    version = model_version_register(kind="catheter", scope_key="", artifact_uri="/tmp/x")
    empty = {"verdict": "ok", "shots": [{"defects": []}]}
    prediction_record(item_id=low.pk, model_version_id=version.pk, payload=empty, uncertainty=0.1)
    prediction_record(item_id=high.pk, model_version_id=version.pk, payload=empty, uncertainty=0.9)
    order = [lease_take_next(project_id=project.pk, user=make_user()).item_id for _ in range(3)]
    assert order == [high.pk, low.pk, plain.pk]


def test_audit_share_serves_random_items(make_project, make_item, make_user):
    project = make_project(queue_policy="fifo", audit_share=1.0)
    ids = [make_item(project).pk for _ in range(30)]
    rng = random.Random(7)
    got = [lease_take_next(project_id=project.pk, user=make_user(), rng=rng).item_id for _ in range(10)]
    assert got != ids[:10], "with a full audit share the order is not FIFO"
    assert len(set(got)) == 10


def test_an_operator_gets_their_live_lease_back(make_project, make_item, operator):
    project = make_project()
    make_item(project), make_item(project)
    first = lease_take_next(project_id=project.pk, user=operator)
    again = lease_take_next(project_id=project.pk, user=operator)
    assert again.token == first.token
    assert WorkItem.objects.filter(state=ItemState.LEASED).count() == 1


def test_only_members_take_work(make_project, make_item, make_user):
    from django.contrib.auth import get_user_model

    project = make_project()
    make_item(project)
    # No role, or an operator of other projects only: the project is not there for them.
    with pytest.raises(NotFound):
        lease_take_next(project_id=project.pk, user=get_user_model().objects.create(username="nobody"))
    with pytest.raises(NotFound):
        lease_take_next(project_id=project.pk, user=make_user("operator", member=False))
    assert lease_take_next(project_id=project.pk, user=make_user("operator")) is not None


def test_expired_lease_returns_the_item_to_the_queue(make_project, make_item, make_user, expire_lease):
    project = make_project()
    item = make_item(project)
    first_user, second_user = make_user(), make_user()
    lease = lease_take_next(project_id=project.pk, user=first_user)
    assert lease_take_next(project_id=project.pk, user=second_user) is None
    expire_lease(lease, seconds=1)
    second = lease_take_next(project_id=project.pk, user=second_user)
    assert second.item_id == item.pk and second.holder == second_user
    lease.refresh_from_db()
    assert lease.end_reason == Lease.End.EXPIRED
    with pytest.raises(Gone):
        lease_heartbeat(token=lease.token, user=first_user)


def test_sweep_expires_stale_leases_back_to_their_previous_state(make_project, make_item, operator, expire_lease):
    project = make_project()
    item = make_item(project)
    lease = lease_take_next(project_id=project.pk, user=operator)
    expire_lease(lease)
    assert lease_expire_stale() == 1
    item.refresh_from_db()
    assert item.state == ItemState.NEW and item.lease_holder is None


def test_heartbeat_extends_and_release_returns(make_project, make_item, operator):
    project = make_project()
    item = make_item(project)
    lease = lease_take_next(project_id=project.pk, user=operator)
    before = lease.expires_at
    beat = lease_heartbeat(token=lease.token, user=operator)
    assert beat.expires_at >= before
    lease_release(token=lease.token, user=operator)
    item.refresh_from_db()
    assert item.state == ItemState.NEW
    with pytest.raises(Gone):
        lease_release(token=lease.token, user=operator)


@pytest.mark.django_db(transaction=True)
def test_twenty_racing_clients_never_share_an_item(make_project, make_item, make_user):
    project = make_project()
    for _ in range(30):
        make_item(project)
    users = [make_user() for _ in range(20)]
    results, errors = [], []
    barrier = threading.Barrier(20)

    def race(user):
        try:
            barrier.wait()
            lease = lease_take_next(project_id=project.pk, user=user)
            results.append(lease.item_id if lease else None)
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=race, args=(u,)) for u in users]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    taken = [r for r in results if r is not None]
    assert len(taken) == 20
    assert len(set(taken)) == 20, "an item was leased twice"
    assert Lease.objects.filter(ended_at__isnull=True).count() == 20
