import pytest
import torch

from ml.catheter.config import SynthConfig, preset
from ml.catheter.data import synth_samples

SMALL = SynthConfig(difficulty="easy", size=128, defect_rate=0.5)


@pytest.fixture(autouse=True, scope="session")
def _one_thread():
    """Tiny models: one intra-op thread avoids OpenMP spin-waiting on a shared, oversubscribed machine."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def small_samples():
    return synth_samples(11, 48, SMALL)


@pytest.fixture(scope="session")
def tiny_checkpoint(tmp_path_factory, small_samples):
    from ml.catheter.training import train

    cfg = preset("tiny")
    cfg.train.epochs = 2
    cfg.flag.objective = "map"
    out = tmp_path_factory.mktemp("ckpt") / "tiny"
    train(small_samples[:36], out, config=cfg, val_samples=small_samples[36:], log=lambda s: None)
    return out
