"""Simulated operators through the running system: does the loop make the proposals better on a shift the
champion has not seen, as deployed?

    python bench/operator_sim.py --kind catheter|articles [--items 50] [--seed 7] [--out bench/out] [--quick]

It starts Loupe as in production: the ASGI server (uvicorn), an inference worker (infer + cpu queues, with
the periodic sweep) and a training worker (Celery), on PostgreSQL and Redis when DATABASE_URL / REDIS_URL are
set (a private database and key prefix, dropped at the end), else on a SQLite file and the embedded Redis.
Accounts are provisioned before the server starts (as ``createsuperuser`` would); from then on it drives
the system only through the public HTTP API with tokens, as a customer's script would:

- two projects of the kind. "Loop on" serves the shift's own scope (``line:B``, ``publisher:nordic-tabloid``),
  with the training trigger set through the API (every ``--train-every`` accepted corrections, auto-promote
  on). "Loop off" has a trigger it never reaches, so its champion stays frozen; it serves the kind's global
  scope (catheter) or a scope the champion knows as little as the shift's own (articles: another publisher
  without a threshold or layout prior of its own, so both arms start from the same defaults and differ only
  by what the loop learns).
  The admin asks for the global scope's first model (the shipped one at the ``cpu`` size; the bootstrap at
  ``tiny``); until the loop-on scope promotes a model of its own, it falls back to that same model, so both
  projects start from one champion.
- a golden set for the loop-on scope (``--golden`` items of the shift, another seed): uploaded with the
  project's golden share at 1, answered and accepted, then the share goes to 0.
- the stream: ``--items`` items of the shift, uploaded to both projects a few items ahead of the operators.
  Per project an operator takes the next item, waits for its proposal, spends ``--think`` seconds, submits
  the generator's exact truth from that proposal; a reviewer accepts, and confirms the answer where the
  champion's suspect check holds it for a second review (else training would not use it). Edits are the
  review diff's (GET
  /api/v1/items/<id>/diff/) against the proposal the operator was shown.

Per block of ``--block`` items it prints edits per item (loop on / off), proposal quality (catheter: verdict
recall and precision; articles: cut F1), the versions that proposed, and the promotions with their latency
(the newest correction a promoted model learned from -> its promotion). The learning curve goes to
``--out`` as a PNG; the last line of output is one JSON object.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _loop_env import ROOT, drop_redis_keys, free_port, prepare_environment, start_web, start_worker, stop  # noqa: E402
from _sim_api import Api, ApiError  # noqa: E402
from _sim_kinds import SHIFTS, Shift  # noqa: E402
from _sim_report import Answer, Block, Promotion, block_row, format_row, header, plot, summary  # noqa: E402

PASSWORD = "operator-sim-pass-1"
USERS = {"admin": "admin", "op-loop": "operator", "op-frozen": "operator", "reviewer": "reviewer"}
NEVER = 100_000   # the frozen project's trigger: more corrections than any run brings


def log(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def configure(a) -> None:
    """Settings of the system under test, before anything starts (the worker processes inherit them)."""
    os.environ["LOUPE_BOOTSTRAP"] = "0"   # first models only when asked for: no scope trains one on its own
    if a.quick:
        os.environ.setdefault("LOUPE_MODEL_SIZE", "tiny")
        os.environ.setdefault("LOUPE_BOOTSTRAP_SECONDS", "15")
        os.environ.setdefault("LOUPE_FINETUNE_STEPS", "4")


def private_pretrained(work: Path, kind: str) -> None:
    """The shipped models, with the kind's one serving the global scope too: a customer's installation whose
    default model for the kind is the shipped one (a manifest that names its scopes gets the global one too)."""
    from workers.pretrained import ROOT as SHIPPED, manifest

    root = work / "pretrained"
    shutil.copytree(SHIPPED, root)
    m = manifest(kind, root)
    if m is not None and "*" not in m["scopes"] and "" not in m["scopes"]:
        m["scopes"] = [*m["scopes"], ""]
        (root / kind / "pretrained.json").write_text(json.dumps(m, indent=1))
    os.environ["LOUPE_PRETRAINED_ROOT"] = str(root)


def provision() -> None:
    from webapp.accounts.services import user_create

    for name, role in USERS.items():
        user_create(username=name, password=PASSWORD, role=role)


class Arm:
    """One project with its operator: loop on, or loop off."""

    def __init__(self, name: str, base: str, project: dict, shift: Shift, reviewer: Api):
        self.name, self.project, self.shift, self.reviewer = name, project, shift, reviewer
        self.operator = Api(base, f"op-{name}", PASSWORD)
        self.items: dict[str, tuple[int, dict, bool]] = {}   # external id -> (index, truth, golden)

    def upload(self, index: int, files, truth: dict, golden: bool = False) -> None:
        for made in self.operator.upload(self.project["id"], files, self.shift.grouping):
            self.items[made["external_id"]] = (index, truth, golden)

    def take(self) -> dict:
        """Takes the next item and waits for its proposal (the workspace shows it the moment it arrives)."""
        lease = self.operator.wait_for(f"an item in {self.name}",
                                       lambda: self.operator.post(f"projects/{self.project['id']}/take-next/",
                                                                  expand="item"), timeout=300)
        detail = lease["detail"]
        if detail.get("prediction") is None:
            detail = self.operator.wait_for(
                f"a proposal for item {detail['id']}",
                lambda: (d := self.operator.get(f"items/{detail['id']}/")).get("prediction") and d, timeout=600)
        return detail

    def answer(self, detail: dict) -> Answer:
        index, truth, _ = self.items[detail["external_id"]]
        proposal = detail["prediction"]
        self.operator.post(f"items/{detail['id']}/revisions/", {"annotation": truth,
                                                               "base_revision": detail.get("head_revision"),
                                                               "from_prediction": proposal["id"]})
        self.reviewer.post(f"items/{detail['id']}/reviews/", {"decision": "accept"})
        self.second_review(detail["id"])
        accepted_at = time.time()
        diff = self.operator.get(f"items/{detail['id']}/diff/")
        v = proposal["model_version"] or {}
        version = f"{v.get('scope_key') or 'global'} v{v.get('number')}"
        width = detail["assets"][0]["width"]
        return Answer(index, detail["id"], edit_count(diff), self.shift.counts(proposal["payload"], truth, width),
                      version, accepted_at)


    def second_review(self, item_id: int) -> None:
        """An answer the champion contradicts with high confidence (a suspect label) waits for a second review
        before training may use it; on a shift that is most answers. The careful reviewer confirms it (it is
        the generator's truth). 409: no suspect label waits on the item."""
        try:
            self.reviewer.post(f"items/{item_id}/suspect/resolve/",
                               {"decision": "confirm", "comment": "operator simulation: the generator's truth"})
        except ApiError as exc:
            if exc.status != 409:
                raise


def edit_count(diff: dict) -> int:
    """The review diff's edits: its own count where the kind gives one, else shapes added + removed + changed
    and a changed verdict or page type."""
    if isinstance(diff.get("edits"), int):
        return diff["edits"]
    return sum(diff["counts"].values()) + int("verdict" in diff) + int("page_type" in diff)


def wait_champion(admin: Api, kind: str, scope_key: str, timeout: float) -> dict:
    return admin.wait_for(f"a champion for {kind}/{scope_key or 'global'}", lambda: next(
        (v for v in admin.pages("models/", kind=kind, scope_key=scope_key) if v["is_champion"]), None),
        timeout=timeout, every=1.0)


def set_up(a, shift: Shift, base: str) -> tuple[dict, Arm, Arm, Api]:
    admin, reviewer = Api(base, "admin", PASSWORD), Api(base, "reviewer", PASSWORD)
    common = {"kind": shift.kind, "queue_policy": "fifo", "review_required": True, "audit_share": 0.0}
    loop = admin.post("projects/", {**common, "name": f"{shift.kind} shift, loop on", "scope_key": shift.scope_key,
                                    "golden_share": 1.0, "description": shift.description})
    frozen = admin.post("projects/", {**common, "name": f"{shift.kind} shift, loop off",
                                      "scope_key": shift.frozen_scope_key,
                                      "golden_share": 0.0, "train_after_corrections": NEVER,
                                      "train_after_minutes": 0, "auto_promote": False})
    for project in (loop, frozen):
        for user, role in (("op-loop", "operator"), ("op-frozen", "operator"), ("reviewer", "reviewer")):
            admin.post(f"projects/{project['id']}/members/", {"user": user, "role": role})
    t = time.perf_counter()
    admin.post("training-runs/", {"kind": shift.kind, "scope_key": "", "project": frozen["id"]})
    first = wait_champion(admin, shift.kind, "", timeout=900)
    log(f"global champion v{first['number']} ({first['config'].get('mode')}, {first['config'].get('size')} size) "
        f"after {time.perf_counter() - t:.0f} s")
    return first, Arm("loop", base, loop, shift, reviewer), Arm("frozen", base, frozen, shift, reviewer), admin


class Items:
    """The shift's items, made in a background thread from the start of the run, in the order they are used:
    the generator (seconds per item on this CPU) works while the system starts and the operators think."""

    def __init__(self, shift: Shift, seed: int, golden: int, items: int):
        self.pool = ThreadPoolExecutor(1, thread_name_prefix="sim-items")
        self.golden = [self.pool.submit(shift.item, seed, i, True) for i in range(golden)]
        self.stream = [self.pool.submit(shift.item, seed, i) for i in range(items)]

    def close(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)


def golden_phase(a, shift: Shift, admin: Api, arm: Arm, items: Items) -> None:
    t = time.perf_counter()
    for i in range(a.golden):
        arm.upload(i, *items.golden[i].result(), golden=True)
    for _ in range(a.golden):
        detail = arm.take()
        assert arm.items[detail["external_id"]][2], "a stream item came before the golden set was done"
        arm.answer(detail)
    admin.patch(f"projects/{arm.project['id']}/", {"golden_share": 0.0})
    admin.post("training-triggers/", {"project": arm.project["id"], "train_after_corrections": a.train_every,
                                      "train_after_minutes": 60, "auto_promote": True,
                                      "reason": "operator simulation: learn from the new shift"})
    log(f"golden set: {a.golden} items accepted in {time.perf_counter() - t:.0f} s")


def promotions_since(admin: Api, shift: Shift, loop: Arm, answers: list[Answer], seen: dict) -> list[Promotion]:
    """New promotions of the loop-on scope, with the latency from the newest correction the run learned from."""
    out = []
    for row in admin.pages("promotions/", kind=shift.kind, scope_key=shift.scope_key, action="promote"):
        if row["id"] in seen:
            continue
        at = datetime.fromisoformat(row["created_at"].replace("Z", "+00:00")).timestamp()
        accepted = {x.item_id: x.accepted_at for x in answers}
        latency = None
        if row["to_version"].get("training_run"):
            run = admin.get(f"training-runs/{row['to_version']['training_run']}/")
            learned = [accepted[i] for i in (run.get("params") or {}).get("new_items", []) if i in accepted]
            latency = at - max(learned) if learned else None
        p = Promotion(f"{shift.scope_key} v{row['to_version']['number']}", at,
                      sum(1 for x in answers if x.accepted_at <= at), latency, row["actor"] is None)
        seen[row["id"]] = p
        out.append(p)
    return out


class Stopwatch:
    """Where the stream's wall time goes, by step (what dominates a run that takes too long)."""

    def __init__(self):
        self.seconds: dict[str, float] = {}

    @contextmanager
    def __call__(self, step: str):
        t = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[step] = self.seconds.get(step, 0.0) + time.perf_counter() - t


def stream(a, shift: Shift, admin: Api, loop: Arm, frozen: Arm, items: Items, clock: Stopwatch):
    blocks, rows, promotions, seen, uploaded = [], [], [], {}, 0
    print(header(), flush=True)
    for i in range(a.items):
        while uploaded < min(a.items, i + 1 + a.lookahead):
            with clock("waiting for the generator"):
                files, truth = items.stream[uploaded].result()
            with clock("uploading"):
                loop.upload(uploaded, files, truth)
                frozen.upload(uploaded, files, truth)
            uploaded += 1
        if i % a.block == 0:
            blocks.append(Block(i))
        with clock("taking, waiting for proposals"):
            taken = [loop.take(), frozen.take()]
        with clock("operators thinking"):
            time.sleep(a.think)   # both operators at work at once
        with clock("submitting, accepting, diff"):
            blocks[-1].loop.append(loop.answer(taken[0]))
            blocks[-1].frozen.append(frozen.answer(taken[1]))
        answers = [x for b in blocks for x in b.loop]
        with clock("reading promotions"):
            promotions += promotions_since(admin, shift, loop, answers, seen)
        if len(blocks[-1].loop) == a.block or i == a.items - 1:
            rows.append(block_row(blocks[-1], shift.figures, promotions))
            print(format_row(rows[-1]), flush=True)
    return blocks, rows, promotions, seen


def drain(a, shift: Shift, admin: Api, loop: Arm, blocks, seen: dict) -> list[Promotion]:
    """A run still training at the end of the stream: its outcome counts for the latency (up to --drain s)."""
    deadline = time.monotonic() + a.drain
    while time.monotonic() < deadline and any(
            r["state"] in ("queued", "running") for r in admin.pages("training-runs/", kind=shift.kind)
            if r["scope_key"] == shift.scope_key):
        time.sleep(2)
    answers = [x for b in blocks for x in b.loop]
    return promotions_since(admin, shift, loop, answers, seen)


def runs_report(admin: Api, shift: Shift) -> list[dict]:
    """Every training run of the loop-on scope as the API tells it: trigger, size, the gate's answer."""
    out = []
    for run in sorted(admin.pages("training-runs/", kind=shift.kind), key=lambda r: r["id"]):
        if run["scope_key"] != shift.scope_key:
            continue
        row = {"run": run["id"], "state": run["state"], "trigger": run["trigger"],
               "new": (run.get("params") or {}).get("n_new"), "seconds": None, "candidate": None}
        if run.get("started_at") and run.get("finished_at"):
            row["seconds"] = round(datetime.fromisoformat(run["finished_at"].replace("Z", "+00:00")).timestamp()
                                   - datetime.fromisoformat(run["started_at"].replace("Z", "+00:00")).timestamp(), 1)
        if run.get("candidate"):
            v = admin.get(f"models/{run['candidate']}/")
            m, primary = v["metrics"], v["metrics"].get("primary")
            gate = m.get("gate") or {}
            row.update(candidate=f"v{v['number']}", golden=(m.get("golden") or {}).get("items"),
                       promotable=v["promotable"], verdict=gate.get("verdict"),
                       blocked=v["blocked_reasons"], primary=primary,
                       value=(m.get("overall") or {}).get(primary),
                       champion_value=((m.get("champion") or {}).get("overall") or {}).get(primary))
        out.append(row)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--kind", required=True, choices=sorted(SHIFTS))
    ap.add_argument("--items", type=int, default=None, help="stream items (default 50; quick 6)")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "out")
    ap.add_argument("--quick", action="store_true", help="smoke run: few items, the tiny model size")
    ap.add_argument("--golden", type=int, default=None, help="golden items of the shift (default 40; quick 3)")
    ap.add_argument("--train-every", type=int, default=None, help="accepted corrections per run (default 10)")
    ap.add_argument("--block", type=int, default=None, help="items per block (default 10)")
    ap.add_argument("--think", type=float, default=None, help="operator seconds per item (default 3; quick 0)")
    ap.add_argument("--lookahead", type=int, default=2, help="items uploaded ahead of the operators")
    ap.add_argument("--drain", type=float, default=None, help="wait for a run still training at the end (s)")
    ap.add_argument("--keep", action="store_true", help="keep the run's folder (logs, database, media, models)")
    a = ap.parse_args()
    quick = {"items": 6, "golden": 3, "train_every": 3, "block": 3, "think": 0.0, "drain": 90.0}
    full = {"items": 50, "golden": 40, "train_every": 10, "block": 10, "think": 3.0, "drain": 180.0}
    for name, value in (quick if a.quick else full).items():
        if getattr(a, name) is None:
            setattr(a, name, value)
    shift = SHIFTS[a.kind]
    t0, load_at_start = time.perf_counter(), os.getloadavg()
    configure(a)
    work = prepare_environment(f"opsim-{a.kind}")
    private_pretrained(work, a.kind)
    provision()
    from django.conf import settings

    port = free_port()
    procs, items = [], Items(shift, a.seed, a.golden, a.items)
    try:
        procs.append(start_web(work, port))
        # the two workers share the machine's cores, as a deployment's worker processes do (workers/base.py):
        # torch's default, every core in each, makes them fight for the cores (fine-tunes ran 4x slower)
        threads = str(max(1, (os.cpu_count() or 1) // 2))
        procs.append(start_worker(work, "infer,cpu", "opsim-infer", beat=True, OMP_NUM_THREADS=threads))
        procs.append(start_worker(work, "train", "opsim-train", OMP_NUM_THREADS=threads))
        base = f"http://127.0.0.1:{port}"
        database = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
        log(f"system up in {time.perf_counter() - t0:.0f} s ({database}"
            f", Redis {'embedded' if os.environ.get('LOUPE_EMBEDDED_REDIS') else 'from REDIS_URL'}; logs in {work})")
        first, loop, frozen, admin = set_up(a, shift, base)
        log(f"shift: {shift.description}")
        golden_phase(a, shift, admin, loop, items)
        t_stream = time.perf_counter()
        clock = Stopwatch()
        blocks, rows, promotions, seen = stream(a, shift, admin, loop, frozen, items, clock)
        stream_s = time.perf_counter() - t_stream
        promotions += drain(a, shift, admin, loop, blocks, seen)
        runs = runs_report(admin, shift)
    except ApiError as exc:
        log(f"failed: {exc} (logs, database and media kept in {work})")
        return 1
    finally:
        items.close()
        stop(procs)
        if os.environ.get("REDIS_URL"):
            drop_redis_keys(settings.REDIS_URL, os.environ["LOUPE_KEY_PREFIX"])
    if not a.keep:   # media, models and the SQLite file of a run that went through: hundreds of MB
        from django.db import connections

        connections.close_all()
        shutil.rmtree(work, ignore_errors=True)
    for r in runs:
        log("run {run}: {state}, trigger {trigger}, {new} new corrections, {seconds} s -> {candidate} "
            "promotable={promotable} verdict={verdict} {primary} {value} vs champion {champion_value} on {golden} "
            "golden items {blocked}".format(**{"promotable": None, "verdict": None, "primary": None, "value": None,
                                                "champion_value": None, "golden": None, "blocked": "", **r}))
    png = a.out / f"operator_sim_{a.kind}_seed{a.seed}{'_quick' if a.quick else ''}.png"
    plot(png, f"{a.kind}: {shift.description}", rows, shift.quality, promotions, a.block)
    wall = time.perf_counter() - t0
    log(f"learning curve: {png}; stream {stream_s:.0f} s, whole run {wall:.0f} s")
    print(json.dumps(summary(a.kind, a.seed, rows, promotions, {
        "items": a.items, "golden": a.golden, "train_every": a.train_every, "think_s": a.think,
        "model_size": first["config"].get("size"),
        "quality": {"loop": [r["quality_loop"] for r in rows], "frozen": [r["quality_frozen"] for r in rows]},
        "proposed_by": [r["proposed_by"] for r in rows], "runs": runs, "png": str(png),
        "stream_s": round(stream_s, 1), "stream_steps_s": {k: round(v, 1) for k, v in clock.seconds.items()},
        "wall_s": round(wall, 1), "cpu_cores": os.cpu_count(),
        "load_average_1_5_15min": {"start": [round(x, 1) for x in load_at_start],
                                   "end": [round(x, 1) for x in os.getloadavg()]}})), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
