"""One storage API for every file Loupe keeps, on Django's storage interface.

Names are relative, slash-separated (``assets/ab/<sha>.png``, ``derived/<sha>/tiles.dzi``,
``predictions/<item>/v<version>/shot0_defect.png``, ``imports/...zip``, ``models/<kind>/<scope>/run..``).
Two backends, chosen by ``LOUPE_STORAGE_URL`` (settings/storage.py):

- the local file system under MEDIA_ROOT (the default): names are files under MEDIA_ROOT, written by a
  temporary file and an atomic rename, read in place;
- an S3-compatible object store (django-storages' S3Storage over boto3): a PUT is atomic (an object is
  visible whole or not at all), uploads stream from a file on disk (multipart past 16 MiB), a private
  bucket is read only by the app (no public ACL; the browser gets files through the app's permission
  checks), and readers that need a file on disk (decoders, model loaders) get a copy from a bounded local
  cache (filecache.py).
"""
from __future__ import annotations

import io
import os
import shutil
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import BinaryIO
from urllib.parse import parse_qs, unquote, urlsplit

from django.conf import settings
from django.core.files.storage import FileSystemStorage, Storage

from webapp.core.filecache import FileCache

_LOCK = threading.Lock()
_BACKENDS: dict[tuple, Storage] = {}
_CACHES: dict[tuple, FileCache] = {}
MULTIPART_BYTES = 16 * 1024 * 1024


class LocalStore(FileSystemStorage):
    """MEDIA_ROOT, where saving replaces a file atomically (a content-addressed name may be saved again)."""

    def get_available_name(self, name, max_length=None):
        return name

    def _save(self, name, content):
        path = Path(self.path(name))
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}")
        with open(tmp, "wb") as out:
            for chunk in content.chunks():
                out.write(chunk)
        os.replace(tmp, path)
        return name


def _s3_options(url: str) -> dict:
    parts = urlsplit(url)
    query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    if not parts.hostname:
        raise ValueError(f"LOUPE_STORAGE_URL {url!r} names no bucket (s3://BUCKET?endpoint=...)")
    options = {"bucket_name": parts.hostname, "location": parts.path.strip("/"),
               "endpoint_url": query.get("endpoint") or None, "region_name": query.get("region") or None,
               "file_overwrite": True, "default_acl": None, "querystring_auth": True,
               "querystring_expire": int(query.get("expire", 300)), "addressing_style": query.get("style", "path")}
    if parts.username:
        options.update(access_key=unquote(parts.username), secret_key=unquote(parts.password or ""))
    return options


def backend() -> Storage:
    """The storage of this process's settings (tests change MEDIA_ROOT per test: keyed by both)."""
    url, root = settings.LOUPE_STORAGE_URL, settings.MEDIA_ROOT
    key = (url, root)
    with _LOCK:
        found = _BACKENDS.get(key)
        if found is None:
            found = _make_backend(url, root)
            _BACKENDS[key] = found
    return found


def _make_backend(url: str, root: str) -> Storage:
    if not url or url.startswith("file:"):
        return LocalStore(location=root)
    if not url.startswith("s3://"):
        raise ValueError(f"LOUPE_STORAGE_URL {url!r}: expected s3://BUCKET?endpoint=... or empty")
    from botocore.config import Config
    from storages.backends.s3 import S3Storage

    threads = max(settings.LOUPE_STORE_THREADS, 1)
    config = Config(max_pool_connections=threads + 4, signature_version="s3v4",
                    retries={"max_attempts": 5, "mode": "standard"})
    return S3Storage(client_config=config, **_s3_options(url))


def is_remote() -> bool:
    return not isinstance(backend(), FileSystemStorage)


def media_root() -> Path:
    return Path(settings.MEDIA_ROOT)


def scratch_dir(what: str = "tmp") -> Path:
    """A folder of this process's own, on local disk, for files on their way in or out."""
    path = media_root() / what
    path.mkdir(parents=True, exist_ok=True)
    return path


def _key(name: str) -> str:
    store = backend()
    return f"{store.location}/{name}" if store.location else name


def _client():
    """The S3 client and bucket. S3Storage keeps one boto3 resource per thread (building one costs a few
    hundred ms of CPU): pool threads are handed the caller's client instead (boto3 clients are thread-safe)."""
    store = backend()
    return store.connection.meta.client, store.bucket_name


_POOL: ThreadPoolExecutor | None = None


def _pool() -> ThreadPoolExecutor:
    """One pool per process for the requests of a folder (started on first use, never before a fork)."""
    global _POOL
    with _LOCK:
        if _POOL is None:
            _POOL = ThreadPoolExecutor(max_workers=max(settings.LOUPE_STORE_THREADS, 1),
                                       thread_name_prefix="filestore")
    return _POOL


def cache() -> FileCache:
    root = settings.LOUPE_CACHE_DIR or str(media_root() / ".cache")
    key = (root, settings.LOUPE_CACHE_BYTES)
    with _LOCK:
        found = _CACHES.get(key)
        if found is None:
            found = _CACHES[key] = FileCache(Path(root), settings.LOUPE_CACHE_BYTES)
    return found


# ---- writing ----------------------------------------------------------------------------------------------
def save_file(name: str, local: Path) -> None:
    """Store the file at ``local`` (a temporary file: it is moved or removed) under ``name``, atomically."""
    if not is_remote():
        target = media_root() / name
        target.parent.mkdir(parents=True, exist_ok=True)
        with open(local, "rb") as f:
            os.fsync(f.fileno())
        os.replace(local, target)
        return
    _upload(Path(local), name)
    Path(local).unlink(missing_ok=True)


def _upload(local: Path, name: str, client=None) -> None:
    from boto3.s3.transfer import TransferConfig

    client, bucket = (client, backend().bucket_name) if client is not None else _client()
    if local.stat().st_size < MULTIPART_BYTES:
        with open(local, "rb") as body:
            client.put_object(Bucket=bucket, Key=_key(name), Body=body)
    else:   # streamed from disk in parts, never whole in memory
        parts = TransferConfig(multipart_threshold=MULTIPART_BYTES, multipart_chunksize=MULTIPART_BYTES,
                               max_concurrency=4)
        client.upload_file(str(local), bucket, _key(name), Config=parts)


def save_bytes(name: str, data: bytes) -> None:
    """Store a small file (a map, a marker) under ``name``; a reader never sees half of it."""
    if not is_remote():
        from django.core.files.base import ContentFile

        backend().save(name, ContentFile(data))
        return
    client, bucket = _client()
    client.put_object(Bucket=bucket, Key=_key(name), Body=data)


def save_tree(prefix: str, folder: Path) -> int:
    """Store every file under ``folder`` as ``prefix/<relative path>``, in parallel; returns the count. The
    caller makes the tree visible (a database row naming ``prefix``) only after this returns."""
    files = [p for p in Path(folder).rglob("*") if p.is_file()]
    if not is_remote():
        for path in files:
            target = media_root() / prefix / path.relative_to(folder)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)
        return len(files)
    client, _ = _client()
    list(_pool().map(lambda p: _upload(p, f"{prefix}/{p.relative_to(folder).as_posix()}", client), files))
    return len(files)


def delete(name: str) -> None:
    if not is_remote():
        (media_root() / name).unlink(missing_ok=True)
        return
    backend().delete(name)


# ---- reading ----------------------------------------------------------------------------------------------
def exists(name: str) -> bool:
    if not is_remote():
        return (media_root() / name).is_file()
    return backend().exists(name)


def open_stream(name: str) -> BinaryIO:
    """The file's bytes as a stream (not read into memory); FileNotFoundError when there is none."""
    if not is_remote():
        return open(media_root() / name, "rb")
    client, bucket = _client()
    try:
        return client.get_object(Bucket=bucket, Key=_key(name))["Body"]
    except client.exceptions.NoSuchKey:
        raise FileNotFoundError(name) from None


def open_range(name: str, offset: int, length: int) -> BinaryIO:
    """``length`` bytes of the file from ``offset`` (one ranged GET on an object store)."""
    if not is_remote():
        with open(media_root() / name, "rb") as stream:
            stream.seek(offset)
            return io.BytesIO(stream.read(length))
    client, bucket = _client()
    try:
        return client.get_object(Bucket=bucket, Key=_key(name), Range=f"bytes={offset}-{offset + length - 1}")["Body"]
    except client.exceptions.NoSuchKey:
        raise FileNotFoundError(name) from None


def _download(name: str, target: Path) -> None:
    client, bucket = _client()
    try:
        client.download_file(bucket, _key(name), str(target))
    except Exception as exc:   # botocore's ClientError 404 for a missing object
        if getattr(exc, "response", {}).get("Error", {}).get("Code") in ("404", "NoSuchKey"):
            raise FileNotFoundError(name) from None
        raise


def local_path(name: str) -> Path:
    """A path on local disk with the file's content: the file itself under MEDIA_ROOT, or a copy in the
    bounded cache (FileNotFoundError when the store has no such file)."""
    if not is_remote():
        return media_root() / name
    return cache().get(name, lambda tmp: _download(name, tmp))


def _list(prefix: str) -> list[dict]:
    client, bucket = _client()
    full = _key(prefix)
    out = []
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=full):
        out.extend(page.get("Contents", []))
    return out


def fetch_tree(prefix: str, target: Path) -> int:
    """Copy every object under ``prefix/`` into the folder ``target`` (made atomically: a half-copied
    tree is never at ``target``); returns the count, 0 when the store has none."""
    strip = len(_key(prefix.rstrip("/") + "/"))
    objects = _list(prefix.rstrip("/") + "/")
    if not objects:
        return 0
    target.parent.mkdir(parents=True, exist_ok=True)
    work = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.part")
    client, bucket = _client()

    def one(obj: dict) -> None:
        path = work / obj["Key"][strip:]
        path.parent.mkdir(parents=True, exist_ok=True)
        client.download_file(bucket, obj["Key"], str(path))

    try:
        list(_pool().map(one, objects))
        if target.exists():   # another thread of this process got it first
            shutil.rmtree(work, ignore_errors=True)
        else:
            os.replace(work, target)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return len(objects)
