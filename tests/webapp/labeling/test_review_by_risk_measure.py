"""What review by risk lets through, measured: two careful operators and a careless one who flips every tenth
catheter verdict (10 %) answer a seeded stream side by side at a 30 % review sample; the share of the injected
errors that reach a reviewer (routed to review) or the suspect queue (accepted, then flagged) is printed.

The model is simulated, not trained: its defect probability is drawn from Beta(4, 1) for a defective balloon
and Beta(1, 4) for a good one (about 94 % right at 0.5), seeded. Control items are served at a rate of 0.1,
answered by each operator with their own care (which operator gets which item varies with the control
draws, so the figures vary a little from run to run). Run alone with ``-s`` to read the figures."""
import random

from webapp.labeling.models import ReviewRouting, SuspectLabel, WorkItem
from webapp.labeling.services import lease_take_next, prediction_record, project_update, revision_submit
from webapp.labeling.services.controls import control_mark

DEFECT = {"type": "axial_scratch", "box": [10, 20, 60, 200]}
DEFECTIVE = {"verdict": "defect", "shots": [{"defects": [DEFECT]}]}
OK = {"verdict": "ok", "shots": [{"defects": []}]}
ITEMS, CONTROLS, FLIP_EVERY, SHARE, SEED = 600, 10, 10, 0.3, 28


def test_review_by_risk_catches_a_careless_operators_flipped_verdicts_at_a_30_percent_sample(
        make_project, make_item, make_user):
    from webapp.mlops.services import model_version_register

    rng = random.Random(SEED)
    project = make_project("catheter", review_required=False, queue_policy="fifo")
    author, admin = make_user("operator"), make_user("admin")
    for _ in range(CONTROLS):   # control items: half defective, truth by an author
        make_item(project)
    n = 0
    while (lease := lease_take_next(project_id=project.pk, user=author)) is not None:
        revision_submit(item_id=lease.item_id, user=author, annotation=DEFECTIVE if n % 2 else OK, base_revision=None)
        control_mark(item_id=lease.item_id, user=admin)
        n += 1
    project = project_update(project=project, review_required=True, review_sample_share=SHARE, control_rate=0.1)
    model = model_version_register(kind="catheter", scope_key=project.scope_key, artifact_uri="/srv/m/v1")
    truth = {}
    for _ in range(ITEMS):
        item = make_item(project)
        defective = rng.random() < 0.3
        p = rng.betavariate(4, 1) if defective else rng.betavariate(1, 4)
        prediction_record(item_id=item.pk, model_version_id=model.pk, payload=DEFECTIVE if p >= 0.5 else OK,
                          uncertainty=round(1 - abs(2 * p - 1), 4), scores={"defect": round(p, 4)})
        truth[item.pk] = defective

    careful = [make_user("operator"), make_user("operator")]
    careless = make_user("operator")
    injected, answered, careless_answers = [], 0, 0
    while True:
        took = False
        for user in (*careful, careless):
            lease = lease_take_next(project_id=project.pk, user=user)
            if lease is None:
                continue
            took = True
            item = WorkItem.objects.get(pk=lease.item_id)
            if item.control_copy:
                right = item.control_answer.control.truth.annotation["verdict"] == "defect"
            else:
                right = truth[item.pk]
                answered += 1
            flip = False
            if user == careless:
                careless_answers += 1
                flip = careless_answers % FLIP_EVERY == 0
            says_defect = right != flip
            revision_submit(item_id=item.pk, user=user, annotation=DEFECTIVE if says_defect else OK,
                            base_revision=None)
            if flip and not item.control_copy:
                injected.append(item.pk)
        if not took:
            break

    routed = {r.item_id: r for r in ReviewRouting.objects.filter(project=project)}
    suspects = set(SuspectLabel.objects.filter(item__project=project).values_list("item_id", flat=True))
    reviewed = {pk for pk, r in routed.items() if r.decision == "review"}
    caught = [pk for pk in injected if pk in reviewed or pk in suspects]
    missed = [(pk, routed[pk].risk, routed[pk].parts["disagreement"]) for pk in injected if pk not in caught]
    print(f"\nreview by risk at {SHARE:.0%}: {answered} items answered, {len(injected)} flipped verdicts injected; "
          f"{len(caught)} reached a reviewer or the suspect queue ({len(caught) / len(injected):.1%}); "
          f"{len(reviewed) / answered:.1%} of all items went to review, {len(suspects) / answered:.1%} to the "
          f"suspect queue; missed (item, risk, disagreement): {missed}")
    assert answered == ITEMS and set(routed) == set(truth)
    assert len(injected) >= 15
    assert len(caught) / len(injected) >= 0.8
    assert len(reviewed) / answered <= 0.45   # a sample, not everything
