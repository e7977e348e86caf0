"""A bounded local cache of files read from the object store: least recently used files go first.

A worker on a machine of its own reads the same working copies again and again (every batch of a scope,
every fine-tune): the cache keeps them on local disk up to ``max_bytes``. A hit touches the file's mtime,
so the eviction order is the order of last use; a miss downloads to a temporary name and renames it in,
so a reader never sees half a file. Eviction runs when a new file takes the total over the bound and
removes the oldest files until the total is under 80% of it (a burst of misses does not evict on each).
"""
from __future__ import annotations

import os
import threading
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

LOW_WATER = 0.8


@dataclass
class CacheStats:
    hits: int = 0
    misses: int = 0
    evictions: int = 0
    bytes_fetched: int = 0
    bytes_held: int = 0


class FileCache:
    def __init__(self, root: Path, max_bytes: int):
        self.root = Path(root)
        self.max_bytes = max_bytes
        self.stats = CacheStats()
        self._lock = threading.Lock()
        self._counted = False

    def path_of(self, name: str) -> Path:
        path = (self.root / name).resolve()
        if not path.is_relative_to(self.root.resolve()):
            raise ValueError(f"name {name!r} leaves the cache")
        return path

    def get(self, name: str, fetch: Callable[[Path], None]) -> Path:
        """The cached copy of ``name``; ``fetch(tmp)`` writes the file to ``tmp`` on a miss."""
        path = self.path_of(name)
        try:
            os.utime(path)   # a hit: now the most recently used
        except FileNotFoundError:
            pass
        else:
            with self._lock:
                self.stats.hits += 1
            return path
        with self._lock:
            self._count_once()
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.part")
        try:
            fetch(tmp)
            size = tmp.stat().st_size
            os.replace(tmp, path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        with self._lock:
            self.stats.misses += 1
            self.stats.bytes_fetched += size
            self.stats.bytes_held += size
            if self.stats.bytes_held > self.max_bytes:
                self._evict(keep=path)
        return path

    def _files(self) -> list[os.DirEntry]:
        out, stack = [], [str(self.root)]
        while stack:
            try:
                entries = list(os.scandir(stack.pop()))
            except FileNotFoundError:
                continue
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    stack.append(entry.path)
                elif not entry.name.endswith(".part"):
                    out.append(entry)
        return out

    def _count_once(self) -> None:
        if not self._counted:   # files of an earlier run of this process's cache folder count too
            self.stats.bytes_held = sum(e.stat().st_size for e in self._files())
            self._counted = True

    def _evict(self, *, keep: Path) -> None:
        entries = sorted(((e.stat().st_mtime_ns, e.stat().st_size, e.path) for e in self._files()))
        held = sum(size for _, size, _ in entries)
        for _, size, path in entries:
            if held <= self.max_bytes * LOW_WATER:
                break
            if path == str(keep):
                continue
            try:
                os.unlink(path)   # a reader that opened it keeps reading (POSIX)
            except FileNotFoundError:
                pass
            held -= size
            self.stats.evictions += 1
        self.stats.bytes_held = held
