"""The per-series verdict CSV: one row per accepted item with its verdict and defect counts per type."""
from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator

from formats.catheter.annotation import DEFECT_TYPES
from formats.common.items import ExportedItem

HEADER = ["item", "external_id", "shots", "verdict", *DEFECT_TYPES]


def _row(values: list) -> str:
    out = io.StringIO()
    csv.writer(out).writerow(values)
    return out.getvalue()


def to_verdict_csv(items: Iterable[ExportedItem]) -> Iterator[str]:
    yield _row(HEADER)
    for item in items:
        counts = {t: 0 for t in DEFECT_TYPES}
        for shot in item.annotation["shots"]:
            for d in shot["defects"]:
                counts[d["type"]] += 1
        yield _row([item.item_id, item.external_id, len(item.assets), item.annotation["verdict"],
                    *[counts[t] for t in DEFECT_TYPES]])


def read_verdict_csv(text: str) -> list[dict]:
    """Rows of a verdict CSV as dicts (counts as ints); raises ValueError on a foreign header."""
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if header != HEADER:
        raise ValueError(f"not a Loupe verdict CSV: the header must be {','.join(HEADER)}")
    return [{"item": int(r[0]), "external_id": r[1], "shots": int(r[2]), "verdict": r[3],
             **{t: int(v) for t, v in zip(DEFECT_TYPES, r[4:])}} for r in reader]
