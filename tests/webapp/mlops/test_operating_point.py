"""The admin sees the operating point a checkpoint's own threshold was chosen for: the catheter balloon
verdict calibrated on validation series for recall >= 0.98, with the precision measured there."""
from webapp.mlops.services import model_version_register

SERIES = {"name": "balloon verdict on the series score", "target_recall": 0.98, "seed": 2019, "balloons": 120,
          "difficulty": "realistic",
          "by_length": {"3": {"threshold": 0.41, "recall": 0.9851, "precision": 0.4286, "defective": 34, "series": 120},
                        "8": {"threshold": 0.52, "recall": 1.0, "precision": 0.6111, "defective": 44, "series": 120}}}


def test_compare_page_shows_the_checkpoint_operating_point(client, admin_user):
    version = model_version_register(kind="catheter", scope_key="line:O", artifact_uri="/m/o",
                                     metrics={"primary": "recall", "overall": {"n": 4, "recall": 1.0}, "slices": {},
                                              "operating_point": SERIES})
    plain = model_version_register(kind="catheter", scope_key="line:O", artifact_uri="/m/p",
                                   metrics={"primary": "recall", "overall": {"n": 4, "recall": 1.0}, "slices": {}})
    client.force_login(admin_user)
    html = client.get(f"/models/{version.pk}/compare/").content.decode()
    assert 'id="checkpoint-operating-point"' in html and "recall &ge; 0.98 on 120 validation series" in html
    assert "series of 3 shots: threshold 0.41, recall 0.9851, precision <strong>0.4286</strong>" in html
    assert "series of 8 shots: threshold 0.52, recall 1.0, precision <strong>0.6111</strong>" in html
    assert 'id="checkpoint-operating-point"' not in client.get(f"/models/{plain.pk}/compare/").content.decode()
