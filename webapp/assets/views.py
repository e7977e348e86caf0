"""Serving asset files to those who may see an item that shows them (``item.view`` in one of its projects,
or the uploader): the original, the working copy, the DZI descriptor and tiles.

Paths come from the database and integer URL parts only, never from a client-supplied path, so a
request cannot name a file outside the asset's folders. Originals are content-addressed (immutable);
derivatives can be rebuilt, so they get a validator (ETag) and a shorter lifetime. With an object store
the bytes are streamed from the private bucket through this same check (never a public URL); a rebuilt
pyramid there lies under a new prefix, so its name is its validator.
"""
from __future__ import annotations

import hashlib
from pathlib import PurePosixPath

from django.http import FileResponse, Http404, HttpResponseNotModified

from webapp.accounts.permissions import requires
from webapp.assets.derivatives import DZI_BASENAME, TILE_SUFFIX
from webapp.assets.models import Asset
from webapp.assets.selectors import asset_get
from webapp.assets.tilepack import tile_stream
from webapp.assets import storage
from webapp.core.errors import NotFound

IMMUTABLE = "private, max-age=31536000, immutable"
DERIVED = "private, max-age=86400"
REVALIDATE = "private, no-cache"  # the working copy is not ready yet: the fallback must not stick
CONTENT_TYPES = {"PNG": "image/png", "JPEG": "image/jpeg", "TIFF": "image/tiff"}


def _asset(asset_id: int) -> Asset:
    try:
        return asset_get(asset_id=asset_id)
    except NotFound:
        raise Http404("no such asset") from None


def _serve(request, name: str, *, etag: str, cache: str, content_type: str, opener=None):
    etag = f'"{etag}"'
    if etag in request.headers.get("If-None-Match", "") and (storage.is_remote() or storage.exists(name)):
        response = HttpResponseNotModified()
    else:
        try:
            stream = opener() if opener else storage.open_stream(name)
            response = FileResponse(stream, content_type=content_type)
        except (FileNotFoundError, IsADirectoryError):
            raise Http404("file not found") from None
    response["ETag"] = etag
    response["Cache-Control"] = cache
    return response


def _derived_etag(asset: Asset, name: str) -> str:
    if storage.is_remote():
        return f"{asset.sha256[:20]}-{hashlib.sha256(name.encode()).hexdigest()[:12]}"
    path = storage.media_path(name)
    return f"{asset.sha256[:20]}-{path.stat().st_mtime_ns if path.exists() else 0}"


def _serve_original(request, asset: Asset, *, cache: str = IMMUTABLE):
    return _serve(request, asset.original, etag=asset.sha256, cache=cache,
                  content_type=CONTENT_TYPES.get(asset.format, "application/octet-stream"))


@requires("item.view", target="asset:asset_id", api_token=True)
def asset_original(request, asset_id: int):
    return _serve_original(request, _asset(asset_id))


@requires("item.view", target="asset:asset_id", api_token=True)
def asset_working(request, asset_id: int):
    asset = _asset(asset_id)
    name = asset.working_copy
    if asset.derivatives != Asset.Derivatives.READY or not name or (not storage.is_remote()
                                                                   and not storage.exists(name)):
        return _serve_original(request, asset, cache=REVALIDATE)
    content_type = "image/png" if name.endswith(".png") else "image/jpeg"
    return _serve(request, name, etag=_derived_etag(asset, name), cache=DERIVED, content_type=content_type)


def _dzi_name(asset: Asset) -> str:
    if asset.derivatives != Asset.Derivatives.READY or not asset.dzi:
        raise Http404("the tile pyramid is not ready")
    return asset.dzi


@requires("item.view", target="asset:asset_id", api_token=True)
def asset_dzi(request, asset_id: int):
    asset = _asset(asset_id)
    name = _dzi_name(asset)
    return _serve(request, name, etag=_derived_etag(asset, name), cache=DERIVED, content_type="application/xml")


@requires("item.view", target="asset:asset_id", api_token=True)
def asset_tile(request, asset_id: int, level: int, col: int, row: int):
    asset = _asset(asset_id)
    if storage.is_remote():   # the tiles of a pyramid in an object store are packed into one object
        prefix = str(PurePosixPath(_dzi_name(asset)).parent)
        name = f"{prefix}/{int(level)}/{int(col)}_{int(row)}"
        return _serve(request, name, etag=_derived_etag(asset, name), cache=DERIVED, content_type="image/jpeg",
                      opener=lambda: tile_stream(prefix, level, col, row))
    tiles = PurePosixPath(_dzi_name(asset)).parent / f"{DZI_BASENAME}_files"
    name = str(tiles / str(int(level)) / f"{int(col)}_{int(row)}{TILE_SUFFIX}")
    # Integer URL parts cannot climb out; checked anyway so that a future change cannot open a hole.
    if not storage.media_path(name).resolve().is_relative_to(storage.media_root().resolve()):
        raise Http404("file not found")
    return _serve(request, name, etag=_derived_etag(asset, name), cache=DERIVED, content_type="image/jpeg")
