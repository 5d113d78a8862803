"""Reading an upload's body without trusting its size or its compression.

Both limits are enforced while reading, never after: the compressed size
before a byte is decompressed (``Content-Length`` first, then the actual
stream), and the decompressed size while decompressing, so a small body that
inflates to gigabytes (a zip bomb) is refused after at most ``max_json_bytes``
of work.
"""

from __future__ import annotations

import zlib
from collections.abc import AsyncIterator

import zstandard

_CHUNK = 1 << 16


class BodyError(Exception):
    """An upload refused before parsing; ``status`` is the HTTP status to answer."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status


async def read_limited(
    chunks: AsyncIterator[bytes], content_length: str | None, max_bytes: int
) -> bytes:
    """The whole body, or ``BodyError(413)`` as soon as it is known to exceed ``max_bytes``."""
    if content_length is not None and content_length.isdigit() and int(content_length) > max_bytes:
        raise BodyError(413, f"body of {content_length} bytes exceeds the limit of {max_bytes}")
    body = bytearray()
    async for chunk in chunks:
        body += chunk
        if len(body) > max_bytes:
            raise BodyError(413, f"body exceeds the limit of {max_bytes} bytes")
    return bytes(body)


def decompress(body: bytes, encoding: str, max_bytes: int) -> bytes:
    """``body`` decoded from its ``Content-Encoding``, refusing output over ``max_bytes``."""
    encoding = (encoding or "identity").strip().lower()
    if encoding == "identity":
        out = body
    elif encoding == "zstd":
        out = _unzstd(body, max_bytes)
    elif encoding == "gzip":
        out = _gunzip(body, max_bytes)
    else:
        raise BodyError(415, f"unsupported Content-Encoding {encoding!r}; use zstd or gzip")
    if len(out) > max_bytes:
        raise BodyError(413, f"decompressed body exceeds the limit of {max_bytes} bytes")
    return out


def _unzstd(body: bytes, max_bytes: int) -> bytes:
    out = bytearray()
    try:
        reader = zstandard.ZstdDecompressor().stream_reader(body, read_across_frames=True)
        while chunk := reader.read(_CHUNK):
            out += chunk
            if len(out) > max_bytes:
                break
    except zstandard.ZstdError as exc:
        raise BodyError(400, f"body is not valid zstd: {exc}") from exc
    return bytes(out)


def _gunzip(body: bytes, max_bytes: int) -> bytes:
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    try:
        out = inflater.decompress(body, max_bytes + 1)
    except zlib.error as exc:
        raise BodyError(400, f"body is not valid gzip: {exc}") from exc
    if len(out) <= max_bytes and not inflater.eof:
        raise BodyError(400, "gzip body is truncated")
    return out
