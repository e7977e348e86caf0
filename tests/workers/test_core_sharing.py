"""Worker processes on a CPU: one per core by default, each process's torch sized by the pool it is in."""
import os
from types import SimpleNamespace

import pytest
import torch

from webapp.config.settings.celery import worker_concurrency_for_device
from workers import base
from workers.base import _remember_the_pool_size, _share_the_cores


@pytest.fixture
def restore_threads(monkeypatch):
    before = torch.get_num_threads()
    monkeypatch.setattr(base, "_pool_processes", None)
    yield
    torch.set_num_threads(before)


def test_one_process_per_core_on_a_cpu(monkeypatch):
    monkeypatch.setenv("LOUPE_DEVICE", "cpu")
    assert worker_concurrency_for_device() == (os.cpu_count() or 1)
    monkeypatch.setenv("LOUPE_DEVICE", "cuda:0")
    assert worker_concurrency_for_device() == 1


@pytest.mark.parametrize("processes", [1, 2, 64])
def test_a_process_takes_its_share_of_the_cores_of_the_pool_it_was_started_in(processes, settings, monkeypatch,
                                                                                restore_threads):
    monkeypatch.setenv("LOUPE_DEVICE", "cpu")
    settings.CELERY_WORKER_CONCURRENCY = 4   # the setting; the pool below was started with --concurrency N
    _remember_the_pool_size(sender=SimpleNamespace(concurrency=processes))
    _share_the_cores()
    assert torch.get_num_threads() == max(1, (os.cpu_count() or 1) // processes)
