"""Serving asset files to those who may see an item that shows them (``item.view`` in one of its projects,
or the uploader): the original, the working copy, the DZI descriptor and tiles.

Paths come from the database and integer URL parts only, never from a client-supplied path, so a
request cannot name a file outside the asset's folders. Originals are content-addressed (immutable);
derivatives can be rebuilt, so they get a validator (ETag) and a shorter lifetime.
"""
from __future__ import annotations

from pathlib import Path

from django.http import FileResponse, Http404, HttpResponseNotModified

from webapp.accounts.permissions import requires
from webapp.assets.derivatives import DZI_BASENAME, TILE_SUFFIX
from webapp.assets.models import Asset
from webapp.assets.selectors import asset_get
from webapp.assets.storage import media_path, media_root
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


def _serve(request, path: Path, *, etag: str, cache: str, content_type: str):
    if not path.is_file():
        raise Http404("file not found")
    etag = f'"{etag}"'
    if etag in request.headers.get("If-None-Match", ""):
        response = HttpResponseNotModified()
    else:
        response = FileResponse(open(path, "rb"), content_type=content_type)
    response["ETag"] = etag
    response["Cache-Control"] = cache
    return response


def _derived_etag(asset: Asset, path: Path) -> str:
    return f"{asset.sha256[:20]}-{path.stat().st_mtime_ns if path.exists() else 0}"


def _serve_original(request, asset: Asset, *, cache: str = IMMUTABLE):
    return _serve(request, media_path(asset.original), etag=asset.sha256, cache=cache,
                  content_type=CONTENT_TYPES.get(asset.format, "application/octet-stream"))


@requires("item.view", target="asset:asset_id", api_token=True)
def asset_original(request, asset_id: int):
    return _serve_original(request, _asset(asset_id))


@requires("item.view", target="asset:asset_id", api_token=True)
def asset_working(request, asset_id: int):
    asset = _asset(asset_id)
    path = media_path(asset.working_copy) if asset.working_copy else None
    if asset.derivatives != Asset.Derivatives.READY or path is None or not path.is_file():
        return _serve_original(request, asset, cache=REVALIDATE)
    content_type = "image/png" if path.suffix == ".png" else "image/jpeg"
    return _serve(request, path, etag=_derived_etag(asset, path), cache=DERIVED, content_type=content_type)


def _dzi_path(asset: Asset) -> Path:
    if asset.derivatives != Asset.Derivatives.READY or not asset.dzi:
        raise Http404("the tile pyramid is not ready")
    return media_path(asset.dzi)


@requires("item.view", target="asset:asset_id", api_token=True)
def asset_dzi(request, asset_id: int):
    asset = _asset(asset_id)
    path = _dzi_path(asset)
    return _serve(request, path, etag=_derived_etag(asset, path), cache=DERIVED, content_type="application/xml")


@requires("item.view", target="asset:asset_id", api_token=True)
def asset_tile(request, asset_id: int, level: int, col: int, row: int):
    asset = _asset(asset_id)
    tiles = _dzi_path(asset).parent / f"{DZI_BASENAME}_files"
    path = tiles / str(level) / f"{col}_{row}{TILE_SUFFIX}"
    # Integer URL parts cannot climb out; checked anyway so that a future change cannot open a hole.
    if not path.resolve().is_relative_to(media_root().resolve()):
        raise Http404("file not found")
    return _serve(request, path, etag=_derived_etag(asset, path), cache=DERIVED, content_type="image/jpeg")
