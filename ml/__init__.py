"""Pure machine learning for Loupe's task kinds. Never imports Django, Celery, webapp or workers.

Every kind's package (``ml.catheter``, ``ml.articles``, ``ml.omr``) offers the same contract, which the
workers' adapters call (tests/ml/test_contract.py checks it):

- ``config.preset(size)``: the config dataclass of a size (``cpu``, ``gpu``, ``tiny`` for tests; default
  by device), with ``to_dict()`` / ``<Config>.from_dict()`` for the checkpoint's JSON (``ml.common.config``);
- ``training.train(samples, out, *, config, callbacks, device, log)``, ``training.finetune(from_checkpoint,
  samples, replay_samples, out, *, steps, callbacks, device, log)``, ``evaluation.evaluate(checkpoint, samples,
  device=...)``; ``finetune(..., steps=N)`` runs exactly N optimiser steps in every kind;
- ``recipes.bootstrap(out, *, size, budget_s, device, callbacks, log)``: a first model from the generator,
  and ``recipes.generated_samples(n, *, seed, size)``: generated samples to top up a replay;
- time budgets and the warm-up/cosine learning-rate schedule come from ``ml.common.schedule``.

Inside a package, modules import one another one way only (import-linter's ``ml-acyclic`` contract): the
predictor knows nothing of training or evaluation, evaluation nothing of training, and the studies built on
evaluation (``catheter.difficulty``, ``articles.degradation``) import it, never the reverse.
"""
