"""Suspect labels: an accepted answer the champion contradicts with high confidence waits for a second review
before training may use it; the reviewer confirms or corrects it, and the decision stays on record."""
import pytest

from webapp.core.errors import NotAllowed
from webapp.labeling.models import SuspectLabel, WorkItem
from webapp.labeling.selectors_loop import correction_list_new
from webapp.labeling.services import lease_take_next, prediction_record, review_submit, revision_submit
from webapp.labeling.services.suspects import suspect_label_resolve

DEFECT = {"type": "axial_scratch", "box": [10, 20, 60, 200]}
MODEL_DEFECT = {"verdict": "defect", "shots": [{"defects": [DEFECT]}]}
OK = {"verdict": "ok", "shots": [{"defects": []}]}


@pytest.fixture
def scored_items(make_project, make_item):
    """A catheter project without review: item 0 the model calls a defect at 0.97, item 1 at 0.55."""
    from webapp.mlops.services import model_version_register

    project = make_project("catheter", review_required=False)
    version = model_version_register(kind="catheter", scope_key=project.scope_key, artifact_uri="/srv/m/v1")
    items = [make_item(project) for _ in range(2)]
    for item, score in zip(items, (0.97, 0.55)):
        prediction_record(item_id=item.pk, model_version_id=version.pk, payload=MODEL_DEFECT, uncertainty=0.1,
                          scores={"defect": score})
    return project, items


def _answer_all(project, user, annotation):
    while (lease := lease_take_next(project_id=project.pk, user=user)) is not None:
        revision_submit(item_id=lease.item_id, user=user, annotation=annotation, base_revision=None)


def _trained_on(project):
    return {c.item_id for c in correction_list_new(kind="catheter", scope_key=project.scope_key, cutoff=None)}


def test_suspect_label_is_held_out_of_training_until_a_reviewer_confirms(scored_items, operator, reviewer):
    project, (confident, unsure) = scored_items
    _answer_all(project, operator, OK)
    suspect = SuspectLabel.objects.get()
    assert suspect.item_id == confident.pk and suspect.state == "open"
    assert suspect.confidence == pytest.approx(0.97)
    assert suspect.why["model_says"] == "defect" and suspect.why["threshold"] == 0.9
    assert _trained_on(project) == {unsure.pk}
    suspect_label_resolve(item_id=confident.pk, reviewer=reviewer, decision="confirm", comment="a reflection")
    suspect.refresh_from_db()
    assert (suspect.state, suspect.resolved_by, suspect.comment) == ("confirmed", reviewer, "a reflection")
    assert _trained_on(project) == {confident.pk, unsure.pk}


def test_suspect_label_corrected_by_a_reviewer_trains_on_the_correction(scored_items, operator, reviewer):
    project, (confident, _) = scored_items
    _answer_all(project, operator, OK)
    suspect = suspect_label_resolve(item_id=confident.pk, reviewer=reviewer, decision="correct",
                                    annotation=MODEL_DEFECT)
    confident.refresh_from_db()
    assert suspect.state == "corrected" and confident.head_revision_id == suspect.resolution_revision_id
    assert confident.head_revision.annotation["verdict"] == "defect"
    assert confident.head_revision.author == reviewer
    trained = correction_list_new(kind="catheter", scope_key=project.scope_key, cutoff=None)
    assert {c.revision_id for c in trained if c.item_id == confident.pk} == {suspect.resolution_revision_id}


def test_suspect_label_from_a_review_accept_and_the_author_cannot_clear_it(make_project, make_item, reviewer,
                                                                           make_user):
    from webapp.core.errors import ServiceError
    from webapp.mlops.services import model_version_register

    project = make_project("catheter")   # review required
    version = model_version_register(kind="catheter", scope_key=project.scope_key, artifact_uri="/srv/m/v1")
    item = make_item(project)
    prediction_record(item_id=item.pk, model_version_id=version.pk, payload=OK, uncertainty=0.1,
                      scores={"defect": 0.02})
    author = make_user("reviewer")                  # a reviewer labels too
    _answer_all(project, author, MODEL_DEFECT)      # the model is 98 % sure the balloon is fine
    assert not SuspectLabel.objects.exists()        # not accepted yet
    review_submit(item_id=item.pk, reviewer=reviewer, decision="accept")
    suspect = SuspectLabel.objects.get(item=item)
    assert suspect.why["model_says"] == "ok" and suspect.confidence == pytest.approx(0.98)
    assert _trained_on(project) == set()
    with pytest.raises(NotAllowed, match="your own answer"):
        suspect_label_resolve(item_id=item.pk, reviewer=author, decision="confirm")
    with pytest.raises(ServiceError, match="decision must be one of confirm, correct"):
        suspect_label_resolve(item_id=item.pk, reviewer=reviewer, decision="maybe")
    suspect_label_resolve(item_id=item.pk, reviewer=reviewer, decision="confirm")
    assert WorkItem.objects.get(pk=item.pk).head_revision.annotation["verdict"] == "defect"
    assert _trained_on(project) == {item.pk}


def test_suspect_label_of_articles_needs_several_confident_cuts_missing_or_unsupported():
    from webapp.articles.quality import suspect_check

    cut = {"x0": 100, "y0": 0, "x1": 100, "y1": 1000}
    other = {"x0": 0, "y0": 500, "x1": 1000, "y1": 500}
    scores = {"candidates": [cut | {"confidence": 0.9}, other | {"confidence": 0.8}]}
    defaults = {"confident_cut": 0.7, "min_disagreements": 2}
    both = {"page_type": "article", "cuts": [cut, other]}
    assert suspect_check(both, {}, scores, defaults) is None
    one_missing = {"page_type": "article", "cuts": [cut]}
    assert suspect_check(one_missing, {}, scores, defaults) is None
    stray = {"x0": 700, "y0": 0, "x1": 700, "y1": 1000}
    flagged = suspect_check({"page_type": "article", "cuts": [cut, stray]}, {}, scores, defaults)
    assert flagged["confidence"] == 0.8 and flagged["missing_cuts"] == [other]
    assert flagged["unsupported_cuts"] == [stray]


def test_suspect_label_thresholds_are_learned_per_class_from_the_accepted_answers(make_project, make_item, operator,
                                                                                  monkeypatch):
    """Confident learning's per-class threshold: the model's mean confidence in the class over the answers
    that gave it. A model whose scores are not probabilities (ok balloons 0.30-0.45, defects 0.8) never
    reaches the defaults' 0.9; the learned thresholds catch a flipped verdict each way, and a value the
    project sets itself still wins."""
    from webapp.labeling import selectors_quality
    from webapp.labeling.selectors_quality import project_quality
    from webapp.mlops.services import model_version_register

    monkeypatch.setattr(selectors_quality, "LEARN_MIN", 4)
    learning = make_project("catheter", review_required=False, queue_policy="fifo")
    fixed = make_project("catheter", review_required=False, queue_policy="fifo", suspect_thresholds={"ok": 0.9})
    answers = [(0.30, OK), (0.35, OK), (0.40, OK), (0.45, OK)] + [(0.8, MODEL_DEFECT)] * 4
    flipped = [(0.33, MODEL_DEFECT), (0.82, OK)]   # an ok balloon answered defect, a defect one answered ok
    for project in (learning, fixed):
        version = model_version_register(kind="catheter", scope_key=project.scope_key, artifact_uri="/srv/m/v1")
        by_item = {}
        for score, annotation in answers + flipped:
            item = make_item(project)
            prediction_record(item_id=item.pk, model_version_id=version.pk, payload=MODEL_DEFECT,
                              uncertainty=0.1, scores={"defect": score})
            by_item[item.pk] = annotation
            if len(by_item) == len(answers):   # the careful answers first: nothing is suspect among them
                while (lease := lease_take_next(project_id=project.pk, user=operator)) is not None:
                    revision_submit(item_id=lease.item_id, user=operator, annotation=by_item[lease.item_id],
                                    base_revision=None)
                assert not SuspectLabel.objects.filter(item__project=project).exists()
                rows = {t["name"]: t for t in project_quality(project=project)["suspect_thresholds"]}
                assert (rows["ok"]["learned"], rows["ok"]["learned_from"]) == (0.625, 4)
                assert (rows["defect"]["learned"], rows["defect"]["value"]) == (0.8, 0.8)
                assert rows["ok"]["value"] == (0.625 if project is learning else 0.9)
                assert rows["ok"]["set_by_project"] is (project is fixed)
        while (lease := lease_take_next(project_id=project.pk, user=operator)) is not None:
            revision_submit(item_id=lease.item_id, user=operator, annotation=by_item[lease.item_id],
                            base_revision=None)
    caught = {s.revision.annotation["verdict"]: s for s in SuspectLabel.objects.filter(item__project=learning)}
    assert set(caught) == {"defect", "ok"}
    assert caught["defect"].confidence == pytest.approx(0.67) and caught["defect"].why["threshold"] == 0.625
    assert caught["ok"].confidence == pytest.approx(0.82) and caught["ok"].why["threshold"] == 0.8
    # the project that set "ok" to 0.9 keeps it: the flipped ok balloon passes; "defect" is learned there too
    assert [s.why["model_says"] for s in SuspectLabel.objects.filter(item__project=fixed)] == ["defect"]


def test_suspect_label_of_articles_learns_the_confidence_of_the_cuts_answers_keep():
    from webapp.articles.quality import self_confidence

    cut = {"x0": 100, "y0": 0, "x1": 100, "y1": 1000}
    other = {"x0": 0, "y0": 500, "x1": 1000, "y1": 500}
    scores = {"candidates": [cut | {"confidence": 0.9}, other | {"confidence": 0.6}]}
    assert self_confidence({"page_type": "article", "cuts": [cut]}, scores) == {"confident_cut": [0.9]}
    both = self_confidence({"page_type": "article", "cuts": [cut, other]}, scores)
    assert sorted(both["confident_cut"]) == [0.6, 0.9]
    assert self_confidence({"page_type": "ads", "cuts": []}, scores) == {}
