"""Memory of an export: the streamed writers (chunks handed on as they are made) against the same
document held whole in memory (what an HttpResponse of one string needs), side by side in one run.

    python bench/export_stream.py [--items 20000]

Prints the peak Python memory (tracemalloc) of each way and their ratio, for the catheter COCO export
(3 shots per item, 4 defects per shot with polygons) and the articles PAGE XML zip.
"""
from __future__ import annotations

import argparse
import sys
import tracemalloc
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from formats.articles.pagexml import page_xml_zip
from formats.catheter.coco import to_coco
from formats.common import ExportedItem


def catheter_items(n: int) -> Iterator[ExportedItem]:
    for i in range(n):
        shots = [{"defects": [{"type": "axial_scratch", "box": [10.0 + k, 20.0, 90.0 + k, 40.0],
                               "polygon": [[10.0 + k, 20.0], [90.0 + k, 22.0], [88.0 + k, 40.0], [12.0 + k, 38.0]]}
                              for k in range(4)]} for _ in range(3)]
        yield ExportedItem(item_id=i, external_id=f"balloon-{i}", meta={}, annotation={"verdict": "defect", "shots": shots},
                           assets=[{"id": 3 * i + s, "name": f"b{i}_{s}.png", "width": 1024, "height": 1024,
                                    "sha256": "0" * 64} for s in range(3)])


def article_items(n: int) -> Iterator[ExportedItem]:
    for i in range(n):
        arts = [{"id": f"a{k + 1}", "polygon": [[0, 300 * k], [2480, 300 * k], [2480, 300 * k + 290],
                                               [0, 300 * k + 290]]} for k in range(10)]
        cuts = [{"x0": 0, "y0": 300 * k + 295, "x1": 2480, "y1": 300 * k + 295} for k in range(10)]
        yield ExportedItem(item_id=i, external_id=f"page-{i}", meta={},
                           annotation={"page_type": "article", "cuts": cuts, "articles": arts},
                           assets=[{"name": f"p{i}.png", "width": 2480, "height": 3508}])


def peak(run: Callable[[], object]) -> tuple[int, int]:
    tracemalloc.start()
    size = run()
    _, top = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return top, size


def held(make: Callable[[], Iterable]) -> Callable[[], int]:
    def run() -> int:
        parts = list(make())
        body = ("" if isinstance(parts[0], str) else b"").join(parts)
        return len(body)
    return run


def streamed(make: Callable[[], Iterable]) -> Callable[[], int]:
    def run() -> int:
        return sum(len(chunk) for chunk in make())
    return run


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--items", type=int, default=20000)
    a = ap.parse_args()
    cases = [("catheter COCO", lambda: to_coco(catheter_items(a.items))),
             ("articles PAGE XML zip", lambda: page_xml_zip(article_items(max(1, a.items // 10))))]
    for name, make in cases:
        held_peak, _ = peak(held(make))
        stream_peak, stream_size = peak(streamed(make))  # (PAGE's Created time may change the zip by bytes)
        print(f"{name}: {stream_size / 2**20:.1f} MiB exported; peak memory held whole {held_peak / 2**20:.1f} MiB, "
              f"streamed {stream_peak / 2**20:.2f} MiB; ratio {held_peak / stream_peak:.0f}x")


if __name__ == "__main__":
    main()
