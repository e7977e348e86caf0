"""Training runs on the ``train`` queue: bootstrap from the generator, or fine-tune the champion on new
corrections + replay; evaluate candidate and champion on the golden set; register; maybe promote.

Failure behaviour: the checkpoint is written to a hidden temporary folder and moved into place only
when complete, and the version is registered (in one transaction with the run's success) only after
that. A worker killed at any point leaves at most an unregistered folder; its run is marked failed by
the sweep once the scope lock has expired (``workers.triggers``).
"""
from __future__ import annotations

import logging
import math
import os
import shutil
import time
import uuid
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from webapp.core import tasknames
from webapp.mlops.comparison import item_disagreements
from webapp.mlops.services_golden import golden_proposals_request
from webapp.labeling.selectors_loop import item_golden_ids, item_replay_ids, item_revision_pairs, project_auto_promotes
from webapp.mlops import gate
from webapp.mlops.selectors import champion_get, training_run_cancel_requested, training_run_get
from webapp.mlops.services import (
    champion_promote,
    model_version_register,
    training_run_end,
    training_run_start,
    training_run_succeed,
    training_run_update,
)
from webapp.realtime.events import MLOPS_GROUP, project_group, publish, send_now
from workers import pretrained, trainset
from workers.adapters import get_adapter
from workers.base import loupe_task
from workers.itemdata import load_items
from workers.locks import ScopeLock
from workers.models import artifact_path, artifact_publish, device, model_size, scope_dir

log = logging.getLogger(__name__)
SYNTH_SEED = 2018
CURVE_POINTS = 1000   # loss points stored on a run (halved when a long run reaches it)


class Cancelled(Exception):
    pass


def _events(run, event: str, payload: dict) -> None:
    body = {"run": run.pk, "kind": run.kind, "scope_key": run.scope_key, **payload}
    send_now(MLOPS_GROUP, event, body)
    if run.project_id:
        send_now(project_group(run.project_id), event, body)


class RunReporter:
    """Progress (step, loss, ETA) stored on the run and streamed as events, at most once a second;
    cancellation read from ``cancel_requested`` at most once a second."""

    def __init__(self, run, budget_s: float = 0.0, every_s: float = 1.0):
        self.run, self.budget_s, self.every_s = run, budget_s, every_s
        self.started = time.monotonic()
        self._last_report = self._last_check = 0.0
        self._cancel = False
        self.lines: list[str] = []
        self.loss_curve: list[list[float]] = []   # [step, loss] as reported: the compare page's plot

    def log(self, line: str) -> None:
        self.lines.append(line)
        log.info("run %s: %s", self.run.pk, line)

    def phase(self, name: str) -> None:
        self.log(f"phase: {name}")
        training_run_update(run_id=self.run.pk, log="\n".join(self.lines[-200:]))
        _events(self.run, "training.progress", {"phase": name, "step": None})

    def on_step(self, p) -> None:
        now = time.monotonic()
        if now - self._last_report < self.every_s and p.step < p.total_steps:
            return
        self._last_report = now
        self.loss_curve.append([p.step, round(p.loss, 5)])
        if len(self.loss_curve) > CURVE_POINTS:   # a long run keeps its whole shape in a bounded list
            self.loss_curve = self.loss_curve[:-1:2] + self.loss_curve[-1:]
        elapsed = now - self.started
        fraction, eta = p.fraction, p.eta_s
        if self.budget_s:   # a time-budgeted run ends at the budget, not at its nominal step count
            fraction = max(fraction, min(1.0, elapsed / self.budget_s))
            eta = min(eta if math.isfinite(eta) else math.inf, max(0.0, self.budget_s - elapsed))
        eta = None if not math.isfinite(eta) else round(eta, 1)
        training_run_update(run_id=self.run.pk, step=p.step, total_steps=p.total_steps, progress=round(fraction, 4),
                            loss=round(p.loss, 5), eta_seconds=eta, loss_curve=self.loss_curve)
        _events(self.run, "training.progress", {"phase": "training", "step": p.step, "total_steps": p.total_steps,
                                                "progress": round(fraction, 4), "loss": round(p.loss, 5),
                                                "eta_seconds": eta})

    def should_stop(self) -> bool:
        now = time.monotonic()
        if not self._cancel and now - self._last_check >= self.every_s:
            self._last_check = now
            self._cancel = training_run_cancel_requested(run_id=self.run.pk)
        return self._cancel

    def check_cancel(self) -> None:
        self._last_check = 0.0
        if self.should_stop():
            raise Cancelled()

    def callback(self):
        from ml.common.trainer import FunctionCallback

        return FunctionCallback(on_step=self.on_step, should_stop=self.should_stop)


def _relative(path: Path) -> str:
    try:
        return artifact_publish(path)   # to the object store too, where there is one
    except ValueError:
        return str(path)


def _samples(adapter, ids: list[int]) -> list:
    return adapter.samples(load_items(ids, mode=getattr(adapter, "image_mode", "RGB"), with_annotation=True))


@loupe_task(tasknames.RUN_TRAINING, time_limit=4 * 3600, max_retries=0)
def run_training(run_id: int) -> str:
    run = training_run_get(run_id=run_id)
    if run is None or run.state != "queued":
        return "skipped"   # redelivered, cancelled while queued, or marked failed by the sweep
    lock, owner = ScopeLock(run.kind, run.scope_key), str(run.pk)
    if not lock.acquire(owner):
        return "busy"      # another run of the scope still holds the lock; the sweep re-sends this one later
    tmp: Path | None = None
    reporter = RunReporter(run)
    try:
        with lock.heartbeat(owner):
            # The lock is taken before the state says running, so the sweep never sees a running run unlocked.
            if not training_run_start(run_id=run.pk):
                return "skipped"
            _events(run, "training.started", {"trigger": run.trigger})
            tmp = scope_dir(run.kind, run.scope_key) / f".tmp-run{run.pk}-{uuid.uuid4().hex[:8]}"
            tmp.parent.mkdir(parents=True, exist_ok=True)
            version = _train(run, tmp, reporter)
            tmp = None
            return f"registered {version.pk}"
    except Cancelled:
        _finish(run, reporter, "cancelled", "training.cancelled")
        return "cancelled"
    except Exception as exc:  # noqa: BLE001 - any failure ends the run visibly; the registry is untouched
        from ml.common.trainer import TrainingCancelled

        if isinstance(exc, TrainingCancelled):
            _finish(run, reporter, "cancelled", "training.cancelled")
            return "cancelled"
        log.exception("training run %s failed", run.pk)
        reporter.log(f"failed: {type(exc).__name__}: {exc}")
        _finish(run, reporter, "failed", "training.failed", error=f"{type(exc).__name__}: {exc}")
        return "failed"
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
        lock.release(owner)


def _finish(run, reporter: RunReporter, state: str, event: str, error: str = "") -> None:
    training_run_end(run_id=run.pk, state=state, error=error, log="\n".join(reporter.lines[-200:]))
    _events(run, event, {"state": state, "error": error[:500]})


def _train(run, tmp: Path, reporter: RunReporter):
    """Train, evaluate and register the run's candidate; returns the registered version."""
    adapter, size, dev = get_adapter(run.kind), model_size(), device()
    base = champion_get(kind=run.kind, scope_key=run.scope_key)
    mark = trainset.watermark(run.kind, run.scope_key)
    cutoff = timezone.now()
    new = trainset.new_corrections(run.kind, run.scope_key, mark)
    params = {"size": size, "device": dev, "cutoff": cutoff.isoformat(), "used_revisions": mark.get("used", [])}
    shipped = (pretrained.serving(run.kind, run.scope_key, size, settings.LOUPE_PRETRAINED_ROOT)
               if base is None and settings.LOUPE_PRETRAINED else None)
    if shipped is not None:   # the model shipped with the code: its first champion without a training wait
        reporter.phase("shipped model")
        meta = pretrained.copy_into(run.kind, tmp, settings.LOUPE_PRETRAINED_ROOT)
        reporter.log(f"starting from the shipped model ({shipped['command']}; held-out figures in pretrained.json)")
        snapshot = trainset.snapshot_id([], f"pretrained:{run.kind}:seed{pretrained.TRAIN_SEED}:{size}")
        params.update(mode="pretrained", cutoff=mark.get("cutoff"), n_new=0, n_replay=0)
    elif base is None:
        reporter.phase("bootstrap")
        reporter.budget_s = float(settings.LOUPE_BOOTSTRAP_SECONDS)
        meta = adapter.bootstrap(out_dir=tmp, scope_key=run.scope_key, size=size,
                                 budget_s=settings.LOUPE_BOOTSTRAP_SECONDS, callbacks=[reporter.callback()],
                                 log=reporter.log)
        snapshot = trainset.snapshot_id([], f"synthetic:{run.kind}:seed{SYNTH_SEED}:{size}")
        params.update(mode="bootstrap", cutoff=mark.get("cutoff"), n_new=0, n_replay=0)
    else:
        held = trainset.hold_out(run.kind, run.scope_key, new, settings.LOUPE_GOLDEN_HOLDOUT_EVERY)
        if held:
            reporter.log(f"held out into the golden set (slices it lacks): items {sorted(held)}")
            new = [c for c in new if c.item_id not in held]
            params["held_out"] = sorted(held)
        if not new:   # e.g. a bootstrap request overtaken by another model: nothing to learn from
            reporter.log("no new accepted corrections since the last run to train on")
            raise Cancelled()
        reporter.phase("preparing data")
        new_ids = [c.item_id for c in new]
        replay_ids = item_replay_ids(kind=run.kind, scope_key=run.scope_key, exclude=set(new_ids),
                                     count=settings.LOUPE_REPLAY_PER_NEW * len(new_ids), seed=run.pk)
        new_s, replay_s = _samples(adapter, new_ids), _samples(adapter, replay_ids)
        # While real data is scarce, generated samples top up the replay so a few corrections do not
        # make the model forget what it knew (the same generator trained the first model).
        n_synth = max(0, len(new_s) - len(replay_s))
        if n_synth:
            replay_s += adapter.synthetic_samples(n_synth, SYNTH_SEED + run.pk, run.scope_key, size)
        reporter.check_cancel()
        reporter.phase("fine-tuning")
        meta = adapter.finetune(base_dir=artifact_path(base.artifact_uri), new=new_s, replay=replay_s, out_dir=tmp,
                                steps=settings.LOUPE_FINETUNE_STEPS, callbacks=[reporter.callback()],
                                log=reporter.log)
        pairs = [(c.item_id, c.revision_id) for c in new]
        replay_pairs = item_revision_pairs(item_ids=replay_ids)
        snapshot = trainset.snapshot_id(pairs + replay_pairs, f"synthetic:{n_synth}" if n_synth else "")
        params.update(mode="finetune",
                      used_revisions=sorted({c.revision_id for c in new} | {r for _, r in replay_pairs}),
                      n_new=len(new_ids),
                      n_replay=len(replay_ids), n_synthetic_replay=n_synth, new_items=new_ids[:500])
    reporter.check_cancel()
    reporter.phase("evaluating on the golden set")
    golden = item_golden_ids(kind=run.kind, scope_key=run.scope_key)
    golden_s = _samples(adapter, golden) if golden else []
    golden_digest = trainset.snapshot_id(item_revision_pairs(item_ids=golden), f"samples:{len(golden_s)}")
    cand_eval = adapter.evaluate(tmp, golden_s, dev).to_json() if golden_s else None
    champ_eval, champ_stored = None, False
    if base is not None and golden_s:
        champ_eval = _stored_evaluation(base, golden_digest)
        champ_stored = champ_eval is not None
        if champ_eval is None:
            champ_eval = adapter.evaluate(artifact_path(base.artifact_uri), golden_s, dev).to_json()
        else:
            reporter.log(f"champion v{base.number}: its own figures on this golden set, stored when it was registered")
    decision = gate.judge(cand_eval, champ_eval, settings.LOUPE_GATE_MARGIN)
    verdict = decision["verdict"] if base is not None else ""   # a first model is not judged: nothing to beat
    promotable = base is None or verdict == gate.BETTER
    reasons = [] if promotable else decision["reasons"]
    reporter.log(f"gate: {verdict or 'first model'}" + (f" ({'; '.join(decision['reasons'])})"
                                                      if decision["reasons"] else ""))
    reporter.check_cancel()
    reporter.phase("registering")
    from ml.common.checkpoint import checkpoint_digest

    digest = checkpoint_digest(tmp)
    final = tmp.parent / f"run{run.pk}-{digest[:12]}"
    if final.exists():
        shutil.rmtree(final)
    os.replace(tmp, final)   # complete checkpoint, atomically in place; only now may it be registered
    metrics = {**(cand_eval or {}), "golden": {"items": len(golden), "samples": len(golden_s),
                                               "digest": golden_digest},
               "champion": None if champ_eval is None else {"version": base.pk, "stored": champ_stored,
                                                            **champ_eval},
               "gate": decision,
               "training": {**_training_summary(meta), "loss_curve": reporter.loss_curve[-1000:]},
               "operating_point": adapter.operating_point(final)}
    metrics = _json_safe(metrics)
    artifact_uri = _relative(final)   # published before the row names it
    with transaction.atomic():
        version = model_version_register(
            kind=run.kind, scope_key=run.scope_key, artifact_uri=artifact_uri, digest=digest,
            config={"size": size, "device": dev, "parent": base.pk if base else None, "mode": params["mode"]},
            data_snapshot_id=snapshot, metrics=metrics, promotable=promotable, blocked_reasons=reasons,
            gate_verdict=verdict, training_run_id=run.pk)
        if not training_run_succeed(run_id=run.pk, candidate_id=version.pk, base_version_id=base.pk if base else None,
                                    params={**run.params, **params}, log="\n".join(reporter.lines[-200:])):
            # The sweep gave this run up (its lock expired): registering now would contradict the run's
            # record, so the whole registration is rolled back.
            raise RuntimeError("the run is no longer running (marked failed or cancelled meanwhile)")
        publish(MLOPS_GROUP, "training.finished", {"run": run.pk, "kind": run.kind, "scope_key": run.scope_key,
                                                   "state": "succeeded", "candidate": version.pk,
                                                   "promotable": promotable, "gate_verdict": verdict,
                                                   "blocked_reasons": reasons})
        if run.project_id:
            publish(project_group(run.project_id), "training.finished",
                    {"run": run.pk, "candidate": version.pk, "promotable": promotable, "gate_verdict": verdict})
        if base is not None and cand_eval and champ_eval:
            # the golden items the two judge differently, proposed by both for the compare page
            disagreeing = [d["item"] for d in item_disagreements(cand_eval, {"version": base.pk, **champ_eval})]
            if disagreeing:
                golden_proposals_request(version_ids=[base.pk, version.pk], item_ids=disagreeing)
        _maybe_promote(run, version, base, cand_eval, params["mode"])
    return version


EVALUATION_KEYS = ("overall", "slices", "primary", "items", "threshold_curve")


def _stored_evaluation(version, golden_digest: str) -> dict | None:
    """The version's own golden-set figures when they were computed on exactly this golden set (the same
    items with the same accepted revisions): evaluating its immutable weights again would repeat them."""
    metrics = version.metrics or {}
    if (metrics.get("golden") or {}).get("digest") != golden_digest or not metrics.get("overall"):
        return None
    return {k: metrics[k] for k in EVALUATION_KEYS if k in metrics}


def _json_safe(value):
    """NaN and infinities as null (JSON has no such numbers; the databases refuse them)."""
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):   # numpy scalars
        return _json_safe(value.item())
    return value


def _training_summary(meta: dict) -> dict:
    train = meta.get("train") or meta.get("training") or {}
    keep = ("steps", "planned_steps", "seconds", "train_seconds", "n_train", "mode", "budget_stop", "parameters")
    return {**{k: train[k] for k in keep if k in train}, "validation": meta.get("validation")}


FIRST_MODEL_REASONS = {
    "pretrained": "pretrained: the scope's first model, shipped with the code (trained on the synthetic generator)",
    "bootstrap": "bootstrap: the scope's first model, trained from the synthetic generator",
}


def _maybe_promote(run, version, base, cand_eval, mode: str) -> None:
    """A scope's first model is promoted at once (audited); later ones only with auto-promotion on and the
    gate's verdict ``better``. Not ``not_enough_evidence``: promoting re-scores every open item and changes
    what operators see, which a candidate must earn by a measured gain; "not worse" would let a model that
    only matches the champion (or one judged on too few items) churn the proposals for nothing."""
    if base is None:
        champion_promote(version_id=version.pk, actor=None,
                         reason=FIRST_MODEL_REASONS.get(mode, FIRST_MODEL_REASONS["bootstrap"]))
        return
    auto = project_auto_promotes(kind=run.kind, scope_key=run.scope_key)
    if auto and version.gate_verdict == gate.BETTER and cand_eval is not None:
        champion_promote(version_id=version.pk, actor=None,
                         reason="auto-promotion: the golden-set gate's verdict is better ("
                                + "; ".join(version.metrics["gate"]["reasons"])[:400] + ")")
