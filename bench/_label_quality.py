"""What the label-quality simulation streams and how its operators answer: items from the shipped models' own
distribution at seeds they never trained on, careful operators who submit the generator's exact truth, and a
careless one who flips a share of catheter verdicts or drops a share of article cuts (blind: on control items
as on any other). Also the figures of a run and its accuracy-over-time plot.

The shipped catheter model trained on seed 2018 (calibration 2019, held out 4242), the articles model on seed
0 (held out 4242); ``SEEDS_NEVER_TRAINED`` refuses those (and the golden set's offset copies of them).
"""
from __future__ import annotations

import copy
import random
from pathlib import Path

from _sim_kinds import GOLDEN_SEED_OFFSET, Files, Shift, _articles_counts, _articles_figures, _catheter_counts, \
    _catheter_figures, _png

TRAINED_SEEDS = {"catheter": {2018, 2019, 4242}, "articles": {0, 4242}}
# An invented defect for an "ok" balloon flipped to "defect": the careless operator marks something.
INVENTED_DEFECT = {"type": "inclusion", "box": [240.0, 240.0, 262.0, 262.0]}
PUBLISHERS = ("daily-courier", "morning-herald", "evening-post", "city-tribune", "weekly-gazette", "nordic-tabloid")


def seed_refused(kind: str, seed: int) -> str | None:
    """Why ``seed`` (stream) or its golden copy may overlap the shipped model's training data, or None."""
    trained = TRAINED_SEEDS[kind]
    if seed in trained or seed + GOLDEN_SEED_OFFSET in trained:
        return (f"seed {seed} (golden {seed + GOLDEN_SEED_OFFSET}) overlaps the shipped {kind} model's seeds "
                f"{sorted(trained)}")
    return None


def _catheter_make(seed: int, index: int) -> tuple[Files, dict]:
    from workers.demo_sources import catheter_series

    series, truth = catheter_series(index, seed, difficulty="realistic")
    return [(f"q{seed}b{index:04d}_shot{k}.png", _png(shot.image)) for k, shot in enumerate(series)], truth


def _articles_make(seed: int, index: int) -> tuple[Files, dict]:
    from workers.demo_sources import articles_page

    image, truth = articles_page(index, seed, publisher=PUBLISHERS[index % len(PUBLISHERS)], scan=1.0)
    return [(f"q{seed}p{index:04d}.png", _png(image))], truth


KINDS = {
    "catheter": Shift("catheter", "label-quality", "series",
                      "balloons at 'realistic' difficulty, set-ups mixed (the shipped champion's own distribution)",
                      ("verdict_recall",), _catheter_make, _catheter_counts, _catheter_figures),
    "articles": Shift("articles", "label-quality", "single",
                      "pages of the six generated publishers at realistic scan quality (the shipped champion's own)",
                      ("cut_f1",), _articles_make, _articles_counts, _articles_figures),
}


def careless_answer(kind: str, truth: dict, rng: random.Random, rate: float) -> tuple[dict, int]:
    """The careless operator's answer from the exact truth, and how many errors it injected: catheter, the
    verdict flipped with chance ``rate`` (a defect balloon answered ok with its marks removed, an ok one
    answered defect with one invented mark); articles, each cut dropped with chance ``rate``."""
    answer = copy.deepcopy(truth)
    if kind == "catheter":
        if rng.random() >= rate:
            return answer, 0
        if truth["verdict"] == "defect":
            answer["verdict"] = "ok"
            answer["shots"] = [{"defects": []} for _ in truth["shots"]]
        else:
            answer["verdict"] = "defect"
            answer["shots"][0]["defects"] = [dict(INVENTED_DEFECT)]
        return answer, 1
    kept = [c for c in truth.get("cuts", []) if rng.random() >= rate]
    answer["cuts"] = kept
    return answer, len(truth.get("cuts", [])) - len(kept)


def _share(n: int, d: int) -> float | None:
    return round(n / d, 3) if d else None


def stream_figures(records: list[dict], flagged: set[int]) -> dict:
    """Per run: the injected errors the suspect queue caught, the share of items sent to re-review, and the
    errors that reached a reviewer (routed to review) or the suspect queue. ``records``: one per stream item
    (``item``, ``operator``, ``errors``, ``reviewed``)."""
    wrong = [r for r in records if r["errors"]]
    caught = [r for r in wrong if r["item"] in flagged]
    reached = [r for r in wrong if r["item"] in flagged or r["reviewed"]]
    right = [r for r in records if not r["errors"]]
    return {
        "items": len(records), "items_with_errors": len(wrong), "errors_injected": sum(r["errors"] for r in wrong),
        "suspects": len(flagged), "caught": len(caught), "caught_share": _share(len(caught), len(wrong)),
        "rereview_share": _share(len(flagged & {r["item"] for r in records}), len(records)),
        "false_flags": sum(1 for r in right if r["item"] in flagged),
        "false_flag_share_of_correct": _share(sum(1 for r in right if r["item"] in flagged), len(right)),
        "routed_to_review": sum(1 for r in records if r["reviewed"]),
        "reviewed_share": _share(sum(1 for r in records if r["reviewed"]), len(records)),
        "reached": len(reached), "reached_share": _share(len(reached), len(wrong)),
    }


def accuracy_over_time(quality: dict, copies: dict[int, tuple[str, int]]) -> dict[str, list[dict]]:
    """Each operator's control answers as the API reports them (``operator-quality``), in order, with how many
    items the operator had answered when it answered the control (``copies``: copy id -> (operator, count))
    and the running mean."""
    out: dict[str, list[dict]] = {}
    for op in quality["operators"]:
        points, total = [], 0.0
        for k, row in enumerate(op["series"], 1):
            total += row["accuracy"]
            points.append({"after_items": copies.get(row["item"], (None, None))[1], "accuracy": row["accuracy"],
                           "running": round(total / k, 4)})
        out[op["operator"]] = points
    return out


def plot_accuracy(path: Path, title: str, series: dict[str, list[dict]]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 4.5))
    for name, points in sorted(series.items()):
        xs = [p["after_items"] for p in points if p["after_items"] is not None]
        ys = [p["running"] for p in points if p["after_items"] is not None]
        careless = "careless" in name
        ax.plot(xs, ys, "o-" if careless else "s--", color="tab:red" if careless else None, label=name,
                linewidth=2 if careless else 1)
    ax.set_xlabel("items the operator had answered (each point: a blind control item)")
    ax.set_ylabel("control accuracy (running mean)")
    ax.set_ylim(0, 1.05)
    ax.set_title(title, fontsize=10)
    ax.legend(loc="lower left", fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
