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


def _base(tmp_path):
    cfg = preset("tiny")
    pages = synth_samples(2, ["daily-courier"], 1, 128)
    filt = synth_samples(4, ["daily-courier"], 2, 128, non_article_share=0.5)
    train(pages, tmp_path / "base", config=cfg, val_samples=pages, filter_samples=filt, publishers=["daily-courier"])
    return tmp_path / "base"


def test_no_steps_keeps_the_weights_and_measures_the_publishers_threshold_and_layout_prior(tmp_path):
    from ml.articles.model import CutNet
    from ml.common.checkpoint import load_weights

    base = _base(tmp_path)
    new = synth_samples(2, ["harbour-ledger"], 4, 128)
    replay = synth_samples(1, ["daily-courier"], 3, 128)
    info = finetune(base, new, replay, tmp_path / "ft", steps=0, recalibrate_others=False)
    assert info["steps"] == 0 and info["publisher"] == "harbour-ledger"
    cfg = preset("tiny")
    weights = []
    for folder in (base, tmp_path / "ft"):
        model = CutNet(cfg.model.base, cfg.model.depth)
        load_weights(folder, model)
        weights.append(model.state_dict())
    assert all((weights[0][k] == weights[1][k]).all() for k in weights[0])
    before, after = load_config(base), load_config(tmp_path / "ft")
    assert "harbour-ledger" in after["thresholds"] and "harbour-ledger" in after["geometry"]
    assert info["tau"] == after["thresholds"]["harbour-ledger"]
    # the replay's publisher was not re-calibrated: its threshold is the source's
    assert after["thresholds"]["daily-courier"] == before["thresholds"]["daily-courier"]


def test_wise_ft_alpha_is_chosen_on_pages_held_out_of_the_fine_tune(tmp_path):
    base = _base(tmp_path)
    new = synth_samples(3, ["harbour-ledger"], 4, 128)
    info = finetune(base, new, None, tmp_path / "ft", steps=1, alpha="choose")
    assert info["pages"] == 2   # every third page judges the averaging instead of training
    assert set(info["alpha_scores"]) == {0.0, 0.25, 0.5, 0.75, 1.0} and info["alpha"] in info["alpha_scores"]
    assert info["alpha_scores"][info["alpha"]] == max(info["alpha_scores"].values())
