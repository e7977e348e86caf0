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

    def predict(self, predictor: Any, items: Sequence[ItemImages], batch_size: int) -> list[Proposal]:
        by_pub: dict[str | None, list[int]] = defaultdict(list)
        for k, item in enumerate(items):
            by_pub[publisher_of(item.scope_key, item.meta)].append(k)
        out: list[Proposal | None] = [None] * len(items)
        for pub, idx in by_pub.items():
            pages = predictor.predict([items[k].images[0] for k in idx], batch_size=batch_size, publisher=pub,
                                      original_sizes=[items[k].original_sizes[0] for k in idx])
            for k, page in zip(idx, pages):
                # the editor's threshold preview and snapping: every cut candidate with its confidence, and
                # the page geometry the refinement measured (page pixels)
                scores = {"page_type": page.page_type, "page_type_scores": page.page_type_scores, "tau": page.tau,
                          "cuts": len(page.cuts), "articles": len(page.articles), **page.extra}
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
                 callbacks: list, log: Log) -> dict[str, Any]:
        from ml.articles.engine import finetune

        new_articles = [s for s in new if s.page_type == "article"]
        if not new_articles:
            raise ValueError("the new corrections hold no article pages: nothing for the cut model to learn")
        info = finetune(base_dir, new_articles, [s for s in replay if s.page_type == "article"] or None, out_dir,
                        publisher=new_articles[0].publisher, steps=steps, callbacks=callbacks, log=log)
        return {"train": info}

    def evaluate(self, artifact_dir: Path, samples: list[Any], device: str) -> Evaluation:
        from ml.articles.engine import evaluate

        res = evaluate(artifact_dir, samples, device=device)
        overall = _flat(res.get("overall", {"pages": 0}))
        if "page_filter" in res:
            overall["page_filter_article_recall"] = res["page_filter"].get("article_recall")
        slices = {f"publisher:{p}": _flat(s) for p, s in res.get("per_publisher", {}).items()}
        return Evaluation(overall, slices, "cut_f1")
