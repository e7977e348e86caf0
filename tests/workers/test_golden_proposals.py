"""The infer task that makes a version's proposals for golden items (run here in process): the OMR aligner
(a model-free version) proposes for two demo pairs; the rows are kept for the comparison only, a second
run makes nothing again, and the items' operator proposal is untouched."""
import pytest

from webapp.labeling.models import Prediction
from webapp.mlops.models import GoldenProposal
from webapp.mlops.services import model_version_register
from workers.golden_proposals import golden_proposals

pytestmark = [pytest.mark.django_db, pytest.mark.slow]
MODERATE, CURL = 0, 2   # indices in ml.omr.demo.KIND_CYCLE


def test_a_version_proposes_for_golden_items_once_and_apart(make_project, omr_items):
    project = make_project("omr", scope_key="piece:golden")
    (a, _, _), (b, _, _) = omr_items(project, [MODERATE, CURL])
    version = model_version_register(kind="omr", scope_key="piece:golden", artifact_uri="/nonexistent/alignment")
    assert golden_proposals(version.pk, [a.pk, b.pk]) == {"stored": 2, "failed": 0}
    rows = {g.item_id: g for g in GoldenProposal.objects.filter(version=version)}
    assert set(rows) == {a.pk, b.pk}
    assert rows[a.pk].payload["status"] == "accepted" and rows[a.pk].scores["verdict"] == "accept"
    assert rows[b.pk].scores["verdict"] == "review"
    assert len(rows[a.pk].payload["homography"]) == 3
    assert not Prediction.objects.filter(item_id__in=[a.pk, b.pk]).exists()
    assert golden_proposals(version.pk, [a.pk, b.pk]) == {"stored": 0, "failed": 0}
