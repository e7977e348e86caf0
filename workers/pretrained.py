"""Small pre-trained models shipped with the code, so a new installation proposes something from its first item.

Each one is rebuilt by one command, which trains from the kind's generator, evaluates on held-out generated
data (a seed the training never saw) and prints those figures::

    python -m workers.pretrained build catheter     # 2000 steps, realistic images (cap: --minutes 60)
    python -m workers.pretrained build articles     # 600 steps (cap: --minutes 60)

Training runs a fixed number of optimiser steps (``--steps``), so the figures do not depend on how busy
the machine is; ``--minutes`` only caps the wall time (the manifest records the steps actually done).

The checkpoint (safetensors + JSON) lands in ``pretrained/<kind>/`` with ``pretrained.json`` beside it: what
it was trained for (preset, scopes), the command, and the held-out figures it printed. The demo (and any
installation that asks for it) registers it as a scope's first champion instead of bootstrapping one from
scratch; the bootstrap stays for scopes without a shipped model.
"""
from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent / "pretrained"
MANIFEST = "pretrained.json"
MAX_BYTES = 5 * 1024 * 1024
TRAIN_SEED, HELD_OUT_SEED = 2018, 4242

# What each kind's shipped model is trained on, and which scopes it serves ("*": any scope of the kind).
PLANS: dict[str, dict[str, Any]] = {
    # The generator's "realistic" images (its default, what the demo shows); ``--difficulty easy`` trains and
    # judges on the original generator's images instead.
    "catheter": {"scopes": ["*"], "n_train": 1000, "n_val": 200, "n_held_out": 300, "steps": 2000,
                 "difficulty": "realistic"},
    "articles": {"scopes": ["publisher:daily-courier"], "publisher": "daily-courier", "pages": 64,
                 "n_held_out": 24, "steps": 600},
}
CATHETER_STEPS_PER_EPOCH = 50


def manifest(kind: str, root: Path = ROOT) -> dict[str, Any] | None:
    """The shipped model's manifest for ``kind`` (None when none is shipped)."""
    path = Path(root) / kind / MANIFEST
    return json.loads(path.read_text()) if path.is_file() else None


def serving(kind: str, scope_key: str, size: str, root: Path = ROOT) -> dict[str, Any] | None:
    """The manifest of the shipped model that serves this scope at this model size, if there is one."""
    m = manifest(kind, root)
    if m is None or m.get("preset") != size or not ("*" in m["scopes"] or scope_key in m["scopes"]):
        return None
    return m


def copy_into(kind: str, out_dir: Path, root: Path = ROOT) -> dict[str, Any]:
    """Copy the shipped checkpoint into ``out_dir`` (a run's folder); returns its manifest."""
    source = Path(root) / kind
    out_dir.mkdir(parents=True, exist_ok=True)
    for path in source.iterdir():
        if path.is_file():
            shutil.copy2(path, out_dir / path.name)
    return json.loads((source / MANIFEST).read_text())


def _log(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def _catheter_shots(n: int, seed: int, difficulty: str) -> list:
    from ml.catheter.config import SynthConfig
    from ml.catheter.data import synth_samples
    from ml.catheter.recipes import DEFECT_RATE, synth_side

    return synth_samples(seed, n, SynthConfig(size=synth_side("cpu"), defect_rate=DEFECT_RATE, difficulty=difficulty))


def _build_catheter(out: Path, steps: int, minutes: float, plan: dict) -> dict[str, Any]:
    from ml.catheter.config import preset
    from ml.catheter.engine import train
    from workers.adapters.catheter import CatheterAdapter

    adapter, cfg = CatheterAdapter(), preset("cpu")
    cfg.train.time_budget_s = minutes * 60.0
    cfg.train.steps_per_epoch = CATHETER_STEPS_PER_EPOCH
    cfg.train.epochs = max(1, -(-steps // CATHETER_STEPS_PER_EPOCH))
    if cfg.flag.objective == "auto":
        cfg.flag.objective = "verdict"
    n_train, n_val = plan["n_train"], plan["n_val"]
    _log(f"generating {n_train + n_val} shots (seed {TRAIN_SEED})")
    samples = _catheter_shots(n_train + n_val, TRAIN_SEED, plan["difficulty"])
    meta = train(samples[:n_train], out, config=cfg, val_samples=samples[n_train:], log=_log)
    del samples
    held_out = _catheter_shots(plan["n_held_out"], HELD_OUT_SEED, plan["difficulty"])
    ev = adapter.evaluate(out, held_out, "cpu")
    return {"preset": "cpu", "train": {"shots": n_train, "validation_shots": n_val, "seed": TRAIN_SEED,
                                       "difficulty": plan["difficulty"],
                                       "steps": meta["train"]["steps"], "planned_steps": meta["train"]["planned_steps"],
                                       "validation": meta.get("validation")},
            "held_out": {"seed": HELD_OUT_SEED, "shots": len(held_out), **ev.to_json()}}


def _build_articles(out: Path, steps: int, minutes: float, plan: dict) -> dict[str, Any]:
    from ml.articles.config import preset
    from ml.articles.engine import synth_samples, train
    from workers.adapters.articles import ArticlesAdapter

    adapter = ArticlesAdapter()
    cfg = preset("cpu")
    cfg.train.pages_per_publisher = plan["pages"]
    cfg.train.steps = steps
    cfg.train.max_minutes = minutes
    cfg.filter.n_trees = 60    # keeps the page filter's arrays (and the whole checkpoint) within a few MB
    pubs = [plan["publisher"]]
    info = train(out=out, config=cfg, publishers=pubs, log=_log)
    held_out = synth_samples(plan["n_held_out"], pubs, HELD_OUT_SEED, cfg.train.work_width, non_article_share=0.25)
    ev = adapter.evaluate(out, held_out, "cpu")
    return {"preset": "cpu", "train": {"publishers": pubs, "pages_per_publisher": plan["pages"],
                                       "steps": info.get("steps"), "planned_steps": steps},
            "held_out": {"seed": HELD_OUT_SEED, "pages": len(held_out), **ev.to_json()}}


BUILDERS = {"catheter": _build_catheter, "articles": _build_articles}


def build(kind: str, steps: int | None = None, minutes: float = 60.0, root: Path = ROOT,
          difficulty: str | None = None) -> dict[str, Any]:
    plan = dict(PLANS[kind], **({"difficulty": difficulty} if difficulty else {}))
    steps = steps or plan["steps"]
    out = root / kind
    tmp = root / f".tmp-{kind}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    t0 = time.perf_counter()
    figures = BUILDERS[kind](tmp, steps, minutes, plan)
    shutil.rmtree(tmp / "eval_plots", ignore_errors=True)
    size = sum(p.stat().st_size for p in tmp.rglob("*") if p.is_file())
    if size > MAX_BYTES:
        raise SystemExit(f"{kind}: checkpoint is {size} bytes, over the {MAX_BYTES} shipped limit")
    info = {"kind": kind, "scopes": plan["scopes"],
            "command": f"python -m workers.pretrained build {kind} "
                       f"--steps {steps} --minutes {minutes:g}" + (f" --difficulty {difficulty}" if difficulty else ""),
            "minutes": minutes, "seconds": round(time.perf_counter() - t0, 1),
            "bytes": size, **figures}
    (tmp / MANIFEST).write_text(json.dumps(info, indent=1, default=float))
    shutil.rmtree(out, ignore_errors=True)
    tmp.rename(out)
    return info


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m workers.pretrained", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="train a kind's shipped model and print its held-out figures")
    b.add_argument("kind", choices=sorted(BUILDERS))
    b.add_argument("--steps", type=int, default=None, help="optimiser steps (default: the kind's plan)")
    b.add_argument("--minutes", type=float, default=60.0, help="cap on the training's wall time")
    b.add_argument("--root", default=str(ROOT))
    b.add_argument("--difficulty", choices=("easy", "realistic", "hard"), default=None,
                   help="catheter: the generator's difficulty (default: the plan's, realistic)")
    args = parser.parse_args(argv)
    info = build(args.kind, args.steps, args.minutes, Path(args.root), args.difficulty)
    print(json.dumps({"kind": info["kind"], "bytes": info["bytes"], "seconds": info["seconds"],
                      "train": info["train"], "held_out": info["held_out"]}, indent=1, default=float))
    return 0


if __name__ == "__main__":
    sys.exit(main())
