"""Summarise the evaluations that bench/gpu_articles.sh wrote into one JSON document."""
import json
import sys
from pathlib import Path


def brief(path: Path) -> dict | None:
    if not path.exists() or path.stat().st_size == 0:
        return None
    r = json.loads(path.read_text())
    o = r.get("overall", {})
    out = {"cut_f1": round(o["cut"]["f1"], 3), "cut_p": round(o["cut"]["precision"], 3),
           "cut_r": round(o["cut"]["recall"], 3), "article_f1": round(o["article"]["f1"], 3),
           "edits_median": o.get("edits_median"), "no_edit_share": round(o.get("no_edit_share", 0), 3)}
    if "page_filter" in r:
        out["filter"] = {k: r["page_filter"].get(k) for k in ("auroc", "article_recall", "non_article_rejected")}
    out["per_publisher_cut_f1"] = {k: round(v["cut"]["f1"], 3) for k, v in r.get("per_publisher", {}).items()}
    return out


d = Path(sys.argv[1])
res = {"train": json.loads((d / "train.json").read_text()) if (d / "train.json").exists() else None}
for f in sorted(d.glob("eval-*.json")):
    res[f.stem[5:]] = brief(f)
for f in sorted(d.glob("ft*.json")):
    try:
        res[f.stem + "-info"] = json.loads(f.read_text())
    except json.JSONDecodeError:
        res[f.stem + "-info"] = None
print(json.dumps(res, indent=1, default=str))
