"""Label quality through the running system: do blind control items, suspect labels and review by risk catch a
careless operator, and does holding suspects out of training keep the model better?

    python bench/label_quality_sim.py --kind catheter|articles [--items 150] [--seed 11] [--out bench/out] [--quick]

It starts Loupe as ``operator_sim`` does (uvicorn, an inference worker with the periodic sweep, a training
worker; PostgreSQL and Redis where DATABASE_URL / REDIS_URL say so, with a private database and key prefix)
and drives it through the public API with tokens, serving the shipped model of the kind (``pretrained/``) on
items of its own distribution at a seed it never trained on (refused otherwise):

- project "held" (the one measured): a golden set (``--golden`` items, another seed) answered by an expert
  and accepted, then marked as control items; from then on the stream runs with the project's
  ``control_rate`` (``--control-rate``), review by risk at ``--sample`` of answers, and the kind's suspect
  check at the project's thresholds (the kind's defaults unless ``--thresholds`` sets some).
- ``--careful`` careful operators submit the generator's exact truth; one careless operator flips
  ``--noise`` of catheter verdicts or drops ``--noise`` of article cuts, on controls as anywhere (blind).
  Operators take turns. A reviewer accepts whatever review by risk sends them as it stands (it measures
  what reaches a reviewer, not how well one reads), so every error also meets the suspect check.
- project "all" (another scope, the same shipped model): the same golden set and the same answers, with the
  suspect check off (thresholds at their maxima). Both scopes then fine-tune once from the shipped model;
  both candidates are scored by the system on their (identical) golden sets.

Printed per kind: the injected errors the suspect queue caught and the share of items sent to re-review,
each operator's control accuracy over time (from ``operator-quality``), the errors that reached a reviewer
or the suspect queue, and the two fine-tunes side by side. The accuracy plot goes to ``--out`` as a PNG;
the last line is one JSON object.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _label_quality import KINDS, accuracy_over_time, careless_answer, plot_accuracy, seed_refused, stream_figures  # noqa: E402
from _loop_env import ROOT, drop_redis_keys, free_port, prepare_environment, start_web, start_worker, stop  # noqa: E402
from _sim_api import Api, ApiError  # noqa: E402
from operator_sim import NEVER, Items, private_pretrained, wait_champion  # noqa: E402

PASSWORD = "label-quality-pass-1"


def log(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def configure(a) -> None:
    os.environ["LOUPE_BOOTSTRAP"] = "0"
    # Both scopes judge on exactly the uploaded golden set: nothing is held out of one run and not the other.
    os.environ["LOUPE_GOLDEN_HOLDOUT_EVERY"] = "0"
    if a.quick:   # still the shipped model (both scopes must start from one champion), trained briefly
        os.environ.setdefault("LOUPE_FINETUNE_STEPS", "4")


def operators(a) -> list[str]:
    return [f"op-careful-{k + 1}" for k in range(a.careful)] + ["op-careless"]


def provision(a) -> None:
    from webapp.accounts.services import user_create

    for name, role in {"admin": "admin", "reviewer": "reviewer", "expert": "operator",
                       **{op: "operator" for op in operators(a)}}.items():
        user_create(username=name, password=PASSWORD, role=role)


class Project:
    """One project of the run, with the truth of every item uploaded to it (by external id)."""

    def __init__(self, admin: Api, body: dict, members: list[str]):
        self.row = admin.post("projects/", body)
        self.id = self.row["id"]
        self.truth: dict[str, tuple[int, dict, bool]] = {}
        for user in members:
            admin.post(f"projects/{self.id}/members/", {"user": user, "role": "reviewer" if user == "reviewer"
                                                        else "operator"})

    def upload(self, api: Api, index: int, files, truth: dict, grouping: str, golden: bool = False) -> None:
        for made in api.upload(self.id, files, grouping):
            self.truth[made["external_id"]] = (index, truth, golden)

    def take(self, api: Api, proposal: bool) -> dict:
        lease = api.wait_for(f"an item for {api.username}",
                             lambda: api.post(f"projects/{self.id}/take-next/", expand="item"), timeout=300)
        detail = lease["detail"]
        if proposal and detail.get("prediction") is None:
            detail = api.wait_for(f"a proposal for item {detail['id']}",
                                  lambda: (d := api.get(f"items/{detail['id']}/")).get("prediction") and d, timeout=600)
        return detail

    def submit(self, api: Api, detail: dict, annotation: dict, reviewer: Api, control: bool = False) -> bool:
        """Submits; when review by risk sends the answer to a reviewer, the reviewer accepts it. True when it
        went to review. An answer on a control item's copy is scored, never reviewed."""
        body = {"annotation": annotation, "base_revision": detail.get("head_revision")}
        if detail.get("prediction"):
            body["from_prediction"] = detail["prediction"]["id"]
        api.post(f"items/{detail['id']}/revisions/", body)
        if control or api.get(f"items/{detail['id']}/")["state"] != "submitted":
            return False
        reviewer.post(f"items/{detail['id']}/reviews/", {"decision": "accept"})
        return True


def set_up(a, shift, base: str, apis: dict[str, Api]) -> tuple[Project, Project]:
    admin = apis["admin"]
    members = ["expert", "reviewer", *operators(a)]
    common = {"kind": shift.kind, "queue_policy": "fifo", "audit_share": 0.0, "golden_share": 1.0,
              "train_after_corrections": NEVER, "train_after_minutes": 0, "auto_promote": False}
    held = Project(admin, {**common, "name": f"{shift.kind} label quality, suspects held",
                           "scope_key": f"{shift.scope_key}:held", "review_required": True,
                           **({"suspect_thresholds": a.thresholds} if a.thresholds else {})}, members)
    full = {t["name"]: t["maximum"] for t in admin.get(f"projects/{held.id}/operator-quality/")["suspect_thresholds"]}
    every = Project(admin, {**common, "name": f"{shift.kind} label quality, trains on everything",
                            "scope_key": f"{shift.scope_key}:all", "review_required": False,
                            "suspect_thresholds": full}, members)
    t = time.perf_counter()
    for project in (held, every):
        admin.post("training-runs/", {"kind": shift.kind, "scope_key": project.row["scope_key"],
                                      "project": project.id})
    for project in (held, every):
        first = wait_champion(admin, shift.kind, project.row["scope_key"], timeout=900)
    log(f"champions: the {first['config'].get('mode')} model at {first['config'].get('size')} size "
        f"after {time.perf_counter() - t:.0f} s")
    held.size = first["config"].get("size")
    return held, every


def golden_phase(a, shift, apis: dict[str, Api], held: Project, every: Project, items: Items) -> None:
    t = time.perf_counter()
    expert, reviewer, admin = apis["expert"], apis["reviewer"], apis["admin"]
    for i in range(a.golden):
        files, truth = items.golden[i].result()
        for project in (held, every):
            project.upload(expert, i, files, truth, shift.grouping, golden=True)
    golden_ids = []
    for _ in range(a.golden):
        detail = held.take(expert, proposal=True)   # a control's copy carries the proposal as any item does
        held.submit(expert, detail, held.truth[detail["external_id"]][1], reviewer)
        golden_ids.append(detail["id"])
        detail = every.take(expert, proposal=False)
        every.submit(expert, detail, every.truth[detail["external_id"]][1], reviewer)
    for item in golden_ids:
        admin.post(f"items/{item}/control/", {"active": True})
    admin.patch(f"projects/{held.id}/", {"golden_share": 0.0, "control_rate": a.control_rate,
                                         "review_sample_share": a.sample})
    admin.patch(f"projects/{every.id}/", {"golden_share": 0.0})
    log(f"golden set: {a.golden} items accepted in both projects and marked as controls "
        f"in {time.perf_counter() - t:.0f} s")


def answer_of(a, kind: str, operator: str, key: str, truth: dict) -> tuple[dict, int]:
    if operator != "op-careless":
        return truth, 0
    return careless_answer(kind, truth, random.Random(f"{a.seed}:{key}"), a.noise)


def stream(a, shift, apis: dict[str, Api], held: Project, items: Items):
    """Operators take turns on the held project until every stream item is answered. Returns the stream
    records, the mirrored answers (external id -> annotation) and the control copies (id -> operator, count)."""
    records, answers, copies, done = [], {}, {}, {op: 0 for op in operators(a)}
    uploaded, turn, controls = 0, 0, 0
    while len(records) < a.items:
        while uploaded < min(a.items, len(records) + 1 + a.lookahead):
            files, truth = items.stream[uploaded].result()
            held.upload(apis["expert"], uploaded, files, truth, shift.grouping)
            uploaded += 1
        op = operators(a)[turn % len(operators(a))]
        turn += 1
        detail = held.take(apis[op], proposal=True)
        index, truth, control = held.truth[detail["external_id"]]
        annotation, errors = answer_of(a, shift.kind, op, f"{op}:{detail['id']}", truth)
        reviewed = held.submit(apis[op], detail, annotation, apis["reviewer"], control=control)
        if control:
            controls += 1
            copies[detail["id"]] = (op, done[op])
            continue
        done[op] += 1
        answers[detail["external_id"]] = annotation
        records.append({"item": detail["id"], "index": index, "operator": op, "errors": errors,
                        "reviewed": reviewed, "truth": truth, "answer": annotation,
                        "scores": (detail.get("prediction") or {}).get("scores")})
        if len(records) % 25 == 0:
            log(f"  {len(records)} stream items answered ({controls} controls served)")
    return records, answers, copies


def mirror(a, shift, apis: dict[str, Api], every: Project, items: Items, answers: dict) -> None:
    """The same answers in the project that trains on everything (no suspect check, accepted on submit)."""
    t = time.perf_counter()
    for i in range(a.items):
        every.upload(apis["expert"], i, *items.stream[i].result(), shift.grouping)
    api = apis[operators(a)[0]]
    for _ in range(a.items):
        detail = every.take(api, proposal=False)
        every.submit(api, detail, answers[detail["external_id"]], apis["reviewer"])
    log(f"the same {a.items} answers in the second project in {time.perf_counter() - t:.0f} s")


def _finished(admin: Api, run_id: int):
    def probe():
        run = admin.get(f"training-runs/{run_id}/")
        return run if run["state"] not in ("queued", "running") else None
    return probe


def fine_tunes(shift, admin: Api, held: Project, every: Project) -> dict:
    """One fine-tune per project from the shipped model, each scored by the system on its golden set."""
    t = time.perf_counter()
    runs = {name: admin.post("training-runs/", {"kind": shift.kind, "scope_key": p.row["scope_key"],
                                                "project": p.id})["id"]
            for name, p in (("suspects_excluded", held), ("everything", every))}
    out = {}
    for name, run_id in runs.items():
        run = admin.wait_for(f"training run {run_id}", _finished(admin, run_id), timeout=1800, every=2.0)
        if run["state"] != "succeeded" or not run.get("candidate"):
            raise ApiError(f"training run {run_id} ({name}) ended {run['state']}: {run.get('log', '')[-800:]}")
        m = admin.get(f"models/{run['candidate']}/")["metrics"]
        numbers = lambda d: {k: round(v, 4) for k, v in (d or {}).items() if isinstance(v, (int, float))}  # noqa: E731
        out[name] = {"run": run_id, "n_new": run["params"].get("n_new"), "primary": m.get("primary"),
                     "golden_items": (m.get("golden") or {}).get("items"), "candidate": numbers(m.get("overall")),
                     "champion": numbers((m.get("champion") or {}).get("overall"))}
    out["everything"]["suspects_in_its_project"] = len(admin.get(f"projects/{every.id}/suspects/", state="all"))
    log(f"two fine-tunes in {time.perf_counter() - t:.0f} s")
    return out


def report_stream(a, figures: dict, over_time: dict, size: str) -> None:
    """The stream's figures, printed as soon as the stream ends (the fine-tunes take longest)."""
    f = figures
    print(f"{a.kind}: {f['items']} stream items, {a.careful} careful operators + 1 careless ({a.noise:.0%}), "
          f"controls at rate {a.control_rate}, review by risk at {a.sample:.0%}, model size {size}")
    print(f"  injected: {f['errors_injected']} errors on {f['items_with_errors']} items")
    print(f"  suspect queue caught {f['caught']}/{f['items_with_errors']} = {f['caught_share']} of items with "
          f"errors (target >= 0.8); re-review share {f['suspects']}/{f['items']} = {f['rereview_share']} "
          f"(target <= 0.1); false flags {f['false_flags']} ({f['false_flag_share_of_correct']} of correct items)")
    print(f"  review by risk sent {f['routed_to_review']}/{f['items']} = {f['reviewed_share']} to a reviewer; "
          f"errors reaching a reviewer or the suspect queue {f['reached']}/{f['items_with_errors']} = "
          f"{f['reached_share']} (target >= 0.9)")
    print("  control accuracy over time (running mean after N own items):")
    for name, points in sorted(over_time.items()):
        trail = ", ".join(f"{p['after_items']}:{p['running']:.3f}" for p in points)
        print(f"    {name:14s} {len(points):3d} controls  {trail}", flush=True)


def report_tunes(tunes: dict) -> None:
    primary = tunes["suspects_excluded"]["primary"]
    print(f"  fine-tune on the golden set ({tunes['suspects_excluded']['golden_items']} items), {primary} and more:")
    for name, t in tunes.items():
        print(f"    {name:18s} trained on {t['n_new']} answers: "
              + ", ".join(f"{k} {v}" for k, v in t["candidate"].items() if k != "n"))
    print(f"    {'shipped champion':18s} " + ", ".join(f"{k} {v}" for k, v in
                                                      tunes["suspects_excluded"]["champion"].items() if k != "n"))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--kind", required=True, choices=sorted(KINDS))
    ap.add_argument("--items", type=int, default=None, help="stream items (default 150; quick 8)")
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "out")
    ap.add_argument("--quick", action="store_true", help="smoke run: few items, a few fine-tune steps")
    ap.add_argument("--golden", type=int, default=None, help="golden items, also the controls (default 30; quick 4)")
    ap.add_argument("--careful", type=int, default=3, help="careful operators (besides the one careless)")
    ap.add_argument("--noise", type=float, default=0.1, help="the careless operator's flip / drop rate")
    ap.add_argument("--control-rate", type=float, default=None, help="project control_rate (default 0.2; quick 0.3)")
    ap.add_argument("--sample", type=float, default=0.3, help="review by risk: the project's sampled share")
    ap.add_argument("--thresholds", type=json.loads, default=None, help="the project's suspect thresholds (JSON)")
    ap.add_argument("--lookahead", type=int, default=2, help="items uploaded ahead of the operators")
    ap.add_argument("--keep", action="store_true", help="keep the run's folder (logs, database, media, models)")
    a = ap.parse_args()
    for name, quick, full in (("items", 8, 150), ("golden", 4, 30), ("control_rate", 0.3, 0.2)):
        if getattr(a, name) is None:
            setattr(a, name, quick if a.quick else full)
    if (why := seed_refused(a.kind, a.seed)) is not None:
        ap.error(why)
    shift = KINDS[a.kind]
    t0, load_at_start = time.perf_counter(), os.getloadavg()
    configure(a)
    work = prepare_environment(f"lqsim-{a.kind}")
    private_pretrained(work, a.kind)
    provision(a)
    from django.conf import settings

    port = free_port()
    procs, items = [], Items(shift, a.seed, a.golden, a.items)
    try:
        procs.append(start_web(work, port))
        procs.append(start_worker(work, "infer,cpu", "lqsim-infer", beat=True))
        procs.append(start_worker(work, "train", "lqsim-train"))
        base = f"http://127.0.0.1:{port}"
        engine = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
        log(f"system up in {time.perf_counter() - t0:.0f} s ({engine}; logs in {work})")
        apis = {name: Api(base, name, PASSWORD) for name in ("admin", "reviewer", "expert", *operators(a))}
        held, every = set_up(a, shift, base, apis)
        golden_phase(a, shift, apis, held, every, items)
        t = time.perf_counter()
        records, answers, copies = stream(a, shift, apis, held, items)
        stream_s = time.perf_counter() - t
        flagged = {s["item"] for s in apis["admin"].get(f"projects/{held.id}/suspects/", state="all")}
        quality = apis["admin"].get(f"projects/{held.id}/operator-quality/")
        figures, over_time = stream_figures(records, flagged), accuracy_over_time(quality, copies)
        report_stream(a, figures, over_time, held.size)
        mirror(a, shift, apis, every, items, answers)
        tunes = fine_tunes(shift, apis["admin"], held, every)
    except ApiError as exc:
        log(f"failed: {exc} (logs, database and media kept in {work})")
        return 1
    finally:
        items.close()
        stop(procs)
        if os.environ.get("REDIS_URL"):
            drop_redis_keys(settings.REDIS_URL, os.environ["LOUPE_KEY_PREFIX"])
    if not a.keep:
        import shutil

        from django.db import connections

        connections.close_all()
        shutil.rmtree(work, ignore_errors=True)
    report_tunes(tunes)
    stem = f"label_quality_sim_{a.kind}_seed{a.seed}{'_quick' if a.quick else ''}"
    png = a.out / f"{stem}.png"
    plot_accuracy(png, f"{a.kind}: control accuracy per operator ({a.careful} careful, 1 careless at {a.noise:.0%})",
                  over_time)
    # every stream answer with its truth and the proposal's scores: what a threshold study reads
    (a.out / f"{stem}_items.json").write_text(json.dumps({"flagged": sorted(flagged), "records": records}))
    wall = time.perf_counter() - t0
    load = {"start": [round(x, 1) for x in load_at_start], "end": [round(x, 1) for x in os.getloadavg()],
            "cpus": os.cpu_count()}
    print(f"machine load (1/5/15 min) at start {load['start']}, at end {load['end']} on {load['cpus']} CPUs")
    log(f"accuracy plot: {png}; stream {stream_s:.0f} s, whole run {wall:.0f} s")
    print(json.dumps({"kind": a.kind, "seed": a.seed, "items": a.items, "golden": a.golden, "careful": a.careful,
                      "noise": a.noise, "control_rate": a.control_rate, "sample": a.sample, "model_size": held.size,
                      "suspect_thresholds": quality["suspect_thresholds"], **figures,
                      "control_accuracy": {k: [p["running"] for p in v] for k, v in over_time.items()},
                      "control_after_items": {k: [p["after_items"] for p in v] for k, v in over_time.items()},
                      "fine_tunes": tunes, "png": str(png), "stream_s": round(stream_s, 1), "load": load,
                      "wall_s": round(wall, 1)}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
