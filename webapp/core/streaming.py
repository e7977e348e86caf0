"""Streamed responses under both servers: under ASGI Django would read a plain iterator to the end
before sending anything (and hold it all in memory), so there the chunks are pulled one at a time in
the sync thread that owns the database connection."""
from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

from asgiref.sync import sync_to_async
from django.core.handlers.asgi import ASGIRequest

_END = object()


async def _pull(chunks: Iterator) -> AsyncIterator:
    step = sync_to_async(next, thread_sensitive=True)
    while (chunk := await step(chunks, _END)) is not _END:
        yield chunk


def stream_for(request, chunks: Iterator) -> Iterator | AsyncIterator:
    """What a StreamingHttpResponse should iterate for this request."""
    django_request = getattr(request, "_request", request)  # a DRF Request wraps Django's
    return _pull(chunks) if isinstance(django_request, ASGIRequest) else chunks
