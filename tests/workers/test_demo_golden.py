"""The demo's golden sets: generated items on indices the queue never uses, accepted with the generator's
truth, split golden, one catheter balloon in three OK, the others defective with each type in turn; a second
call resumes, adding nothing."""
import pytest

from webapp.labeling.models import ItemState, WorkItem
from webapp.labeling.services import project_create
from workers import demo

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def test_golden_set_seeding_accepts_generated_truth_and_resumes(monkeypatch, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    spec = next(p for p in demo.PROJECTS if p["kind"] == "catheter")
    project = project_create(**spec, review_required=False)
    monkeypatch.setitem(demo.GOLDEN_SETS, "tiny", 6)
    assert demo.seed_golden("tiny", kinds=["catheter"]) == {"catheter": 6}
    items = list(WorkItem.objects.filter(project=project).select_related("head_revision").order_by("id"))
    assert len(items) == 6 and {i.split for i in items} == {"golden"}
    assert {i.state for i in items} == {ItemState.ACCEPTED}
    assert all(i.external_id.startswith("golden-balloon-1000") for i in items)
    verdicts = [i.head_revision.annotation["verdict"] for i in items]
    assert verdicts == ["ok", "defect", "defect", "ok", "defect", "defect"]   # one in three OK
    types = {d["type"] for i in items for s in i.head_revision.annotation["shots"] for d in s["defects"]}
    assert types == {"axial_scratch", "radial_scratch", "inclusion", "bubble"}   # each defect type in turn
    assert all(len(i.head_revision.annotation["shots"]) == 4 for i in items)
    assert demo.seed_golden("tiny", kinds=["catheter"]) == {"catheter": 0}
