"""A tile pyramid in an object store as two objects: ``tiles.pack`` (every tile's bytes, end to end) and
``tiles.index.json`` (``{"<level>/<col>_<row>": [offset, length]}``), read tile by tile with ranged GETs.

A 7000 x 10000 px page has ~1,500 tiles: one PUT each made its upload several times slower than writing
them to a local disk (each request costs the store more than the tile's bytes do), while two objects go
up as fast as the disk takes them. The index is small (a few tens of KiB) and kept per web process, so a
tile is still one request to the store. Local files keep deep-zoom's folder of tiles.
"""
from __future__ import annotations

import json
import threading
from collections import OrderedDict
from pathlib import Path
from typing import BinaryIO

from webapp.assets.derivatives import DZI_BASENAME, TILE_SUFFIX
from webapp.core import filestore

PACK = f"{DZI_BASENAME}.pack"
INDEX = f"{DZI_BASENAME}.index.json"
KEEP = 256   # indexes kept per process (pyramids being viewed)
_INDEXES: "OrderedDict[str, dict]" = OrderedDict()
_LOCK = threading.Lock()


def pack_tiles(work: Path) -> int:
    """Replace the tile folder in ``work`` by the pack and its index; returns the number of tiles."""
    folder = work / f"{DZI_BASENAME}_files"
    index = {}
    with open(work / PACK, "wb") as out:
        for path in sorted(folder.rglob(f"*{TILE_SUFFIX}")):
            data = path.read_bytes()
            index[f"{path.parent.name}/{path.name[:-len(TILE_SUFFIX)]}"] = [out.tell(), len(data)]
            out.write(data)
    (work / INDEX).write_text(json.dumps(index, separators=(",", ":")))
    for path in sorted(folder.rglob("*"), reverse=True):
        path.rmdir() if path.is_dir() else path.unlink()
    folder.rmdir()
    return len(index)


def _index(prefix: str) -> dict:
    with _LOCK:
        if prefix in _INDEXES:
            _INDEXES.move_to_end(prefix)
            return _INDEXES[prefix]
    with filestore.open_stream(f"{prefix}/{INDEX}") as stream:   # a prefix is never rewritten: safe to keep
        index = json.loads(stream.read())
    with _LOCK:
        _INDEXES[prefix] = index
        while len(_INDEXES) > KEEP:
            _INDEXES.popitem(last=False)
    return index


def tile_stream(prefix: str, level: int, col: int, row: int) -> BinaryIO:
    """One tile's bytes from the pack; FileNotFoundError for a tile the pyramid does not have."""
    entry = _index(prefix).get(f"{int(level)}/{int(col)}_{int(row)}")
    if entry is None:
        raise FileNotFoundError(f"{prefix}: no tile {level}/{col}_{row}")
    offset, length = entry
    return filestore.open_range(f"{prefix}/{PACK}", offset, length)
