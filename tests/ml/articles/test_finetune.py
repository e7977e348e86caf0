"""Fine-tuning for one publisher re-chooses the thresholds of the publishers it keeps serving."""
from ml.articles.config import preset
from ml.articles.data import Sample, synth_samples
from ml.articles.training import finetune, train
from ml.common.checkpoint import load_config


def test_replay_publishers_get_new_thresholds_and_unknown_ones_keep_theirs(tmp_path):
    cfg = preset("tiny")
    pages = synth_samples(2, ["daily-courier"], 1, 128)
    filt = synth_samples(4, ["daily-courier"], 2, 128, non_article_share=0.5)
    train(pages, tmp_path / "base", config=cfg, val_samples=pages, filter_samples=filt,
          publishers=["daily-courier"])
    replay = synth_samples(1, ["daily-courier"], 3, 128)
    # a publisher the generator has no style for (a real newspaper from the platform): no calibration pages
    foreign = [Sample(image=s.image, annotation=s.annotation, original_size=s.original_size, publisher="Le Monde")
               for s in replay]
    new = synth_samples(1, ["nordic-tabloid"], 4, 128)
    info = finetune(tmp_path / "base", new, replay + foreign, tmp_path / "ft", steps=1)
    th = load_config(tmp_path / "ft")["thresholds"]
    assert info["publisher"] == "nordic-tabloid" and info["replay_pages"] == 2
    assert "nordic-tabloid" in th and "daily-courier" in th and "Le Monde" not in th
    assert "nordic-tabloid" in load_config(tmp_path / "ft")["geometry"]
