"""Articles adapter: one page per item, one model per publisher (scope ``publisher:<name>``).

The predictor reads the grey working copy and returns cuts and article polygons in the ORIGINAL page's
pixels (it takes the originals' sizes); samples keep the annotation in original pixels with
``original_size``, so no coordinate is rescaled here.
"""
from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any, Iterable, Sequence

from workers.adapters.base import Adapter, Evaluation, ItemImages, Log, Proposal


def publisher_of(scope_key: str, meta: dict | None = None) -> str | None:
    if meta and meta.get("publisher"):
        return str(meta["publisher"])
    return scope_key.split(":", 1)[1] if scope_key.startswith("publisher:") else None


def _flat(summary: dict) -> dict:
    if not summary.get("pages"):
        return {"pages": 0}
    cut, art = summary["cut"], summary["article"]
    return {"pages": summary["pages"], "cut_precision": cut["precision"], "cut_recall": cut["recall"],
            "cut_f1": cut["f1"], "article_f1": art["f1"], "edits_mean": summary["edits_mean"],
            "no_edit_share": summary["no_edit_share"]}


class ArticlesAdapter(Adapter):
    kind = "articles"
    ml_package = "ml.articles"
    image_mode = "L"

    def batch_size(self, device: str) -> int:
        return 32 if device.startswith("cuda") else 4

    def load(self, artifact_dir: Path, device: str) -> Any:
        from ml.articles.predict import Predictor

        return Predictor.load(artifact_dir, device=device)

    def apply_threshold(self, predictor: Any, value: float | None) -> None:
        # The version serves one publisher (its scope): the admin's threshold is that publisher's cut
        # threshold tau, chosen on the precision-recall curve over tau; None: the checkpoint's own per publisher.
        predictor.__dict__["operating_tau"] = None if value is None else float(value)

    @staticmethod
    def tau_in_force(predictor: Any, publisher: str | None) -> float:
        chosen = predictor.__dict__.get("operating_tau")
        return predictor.tau_for(publisher) if chosen is None else chosen

    def rescore(self, predictor: Any, payload: dict[str, Any], scores: dict[str, Any],
                uncertainty: float) -> Proposal | None:
        """Unchanged where the page was cut at the tau now in force (or is not an article page); else the
        page is predicted again: article polygons follow from the cuts and the region map, which is not
        stored, so the stored cuts alone cannot give the proposal at another tau."""
        if scores.get("page_type") not in (None, "article"):
            return Proposal(payload, scores, uncertainty)
        tau, now = scores.get("tau"), self.tau_in_force(predictor, scores.get("publisher"))
        if isinstance(tau, (int, float)) and abs(float(tau) - now) < 1e-9:
            return Proposal(payload, scores, uncertainty)
        return None

    def predict(self, predictor: Any, items: Sequence[ItemImages], batch_size: int) -> list[Proposal]:
        by_pub: dict[str | None, list[int]] = defaultdict(list)
        for k, item in enumerate(items):
            by_pub[publisher_of(item.scope_key, item.meta)].append(k)
        out: list[Proposal | None] = [None] * len(items)
        for pub, idx in by_pub.items():
            pages = predictor.predict([items[k].images[0] for k in idx], batch_size=batch_size, publisher=pub,
                                      original_sizes=[items[k].original_sizes[0] for k in idx],
                                      tau=predictor.__dict__.get("operating_tau"))
            for k, page in zip(idx, pages):
                # the editor's threshold preview and snapping: every cut candidate with its confidence, and
                # the page geometry the refinement measured (page pixels)
                scores = {"page_type": page.page_type, "page_type_scores": page.page_type_scores, "tau": page.tau,
                          "publisher": pub, "cuts": len(page.cuts), "articles": len(page.articles), **page.extra}
                out[k] = Proposal(page.to_annotation(), scores, page.uncertainty)
        return out

    # ---- training ---------------------------------------------------------------------------------
    def samples(self, items: Iterable[ItemImages]) -> list[Any]:
        from ml.articles.data import Sample

        return [Sample(image=item.images[0], annotation=item.annotation, original_size=item.original_sizes[0],
                       publisher=publisher_of(item.scope_key, item.meta) or "unknown", page_id=f"item{item.item_id}")
                for item in items]

    def synthetic_samples(self, n: int, seed: int, scope_key: str, size: str = "cpu") -> list[Any]:
        from ml.articles.recipes import generated_samples

        return generated_samples(n, seed=seed, size=size, publisher=publisher_of(scope_key))

    def bootstrap(self, *, out_dir: Path, scope_key: str, size: str, budget_s: float, callbacks: list,
                  log: Log) -> dict[str, Any]:
        from ml.articles.recipes import bootstrap

        info = bootstrap(out_dir, size=size, budget_s=budget_s, callbacks=callbacks, log=log,
                         publisher=publisher_of(scope_key))
        return {"train": info}

    def finetune(self, *, base_dir: Path, new: list[Any], replay: list[Any], out_dir: Path, steps: int,
                 callbacks: list, log: Log, **options: Any) -> dict[str, Any]:
        """``options``: ``ml.articles.training.finetune``'s settings over the loop's own, and ``min_pages`` over
        the config's ``finetune_min_pages`` (benchmarks compare them)."""
        from ml.articles.training import finetune

        new_articles = [s for s in new if s.page_type == "article"]
        if not new_articles:
            raise ValueError("the new corrections hold no article pages: nothing for the cut model to learn")
        publisher = new_articles[0].publisher
        # A publisher's scope serves that publisher only: the replay's other publishers need no thresholds.
        options.setdefault("recalibrate_others", publisher == "unknown")
        # Too few of the publisher's own pages to move the weights: its threshold and layout prior are what
        # its first corrections teach (the config's ``finetune_min_pages``; the run's steps from there on).
        own = len(new_articles) + sum(s.publisher == publisher for s in replay if s.page_type == "article")
        min_pages = options.pop("min_pages", None)
        if own < (self._min_pages(base_dir) if min_pages is None else min_pages):
            log(f"{own} pages of {publisher}: threshold and layout prior only, the weights are kept")
            steps = 0
        info = finetune(base_dir, new_articles, [s for s in replay if s.page_type == "article"] or None, out_dir,
                        publisher=publisher, steps=steps, callbacks=callbacks, log=log, **options)
        return {"train": info}

    @staticmethod
    def _min_pages(base_dir: Path) -> int:
        from ml.articles.config import ArticlesConfig
        from ml.common.checkpoint import load_config

        return ArticlesConfig.from_dict(load_config(base_dir)["config"]).train.finetune_min_pages

    def evaluate(self, artifact_dir: Path, samples: list[Any], device: str) -> Evaluation:
        from ml.articles.evaluation import evaluate

        res = evaluate(artifact_dir, samples, device=device)
        overall = _flat(res.get("overall", {"pages": 0}))
        if "page_filter" in res:
            overall["page_filter_article_recall"] = res["page_filter"].get("article_recall")
        slices = {f"publisher:{p}": _flat(s) for p, s in res.get("per_publisher", {}).items()}
        return Evaluation(overall, slices, "cut_f1", items=_per_item(res.get("per_page") or []),
                          threshold_curve=_tau_curve(res.get("pr_curves") or {}, {s.publisher for s in samples}))


def _per_item(pages: list[dict]) -> list[dict]:
    """Per golden page: its cut F1 and the cut counts behind it (the slice figure is the micro-averaged F1 of
    its pages, which the compare page's paired bootstrap recomputes from the resampled counts)."""
    out = []
    for page in pages:
        ident = str(page.get("id") or "")
        if ident.startswith("item") and ident[4:].isdigit():   # generated pages have no item
            out.append({"item": int(ident[4:]), "slices": [f"publisher:{page['publisher']}"],
                        "value": round(float(page["cut_f1"]), 5), "tp": page["tp"], "fp": page["fp"],
                        "fn": page["fn"]})
    return sorted(out, key=lambda r: r["item"])


def _tau_curve(curves: dict[str, dict], publishers: set[str]) -> dict | None:
    """Cut precision and recall over tau for the scope's publisher (all pages where the set mixes several)."""
    curve = curves.get(next(iter(publishers))) if len(publishers) == 1 else None
    curve = curve or curves.get("_all")
    if not curve or not curve.get("tau"):
        return None
    return {"name": "cut threshold tau", "thresholds": [float(t) for t in curve["tau"]],
            "precision": [float(p) for p in curve["precision"]], "recall": [float(r) for r in curve["recall"]]}
