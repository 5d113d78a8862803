"""The upload format the uploader sends and the collector accepts.

One batch is a JSON object ``{"events": [...], "blobs": {sha256: base64}}``,
compressed as a whole with zstd (or gzip for clients without zstd) and sent
with the matching ``Content-Encoding``. Events carry the schema's own field
names, so the wire format is the export format.
"""

from __future__ import annotations

import gzip
from typing import Annotated

import zstandard
from pydantic import Base64Bytes, StringConstraints

from demoforge.events import Event, Model

Sha256 = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]

#: Content encodings a collector accepts, best first.
ENCODINGS = ("zstd", "gzip", "identity")


class UploadBatch(Model):
    """A batch of events and the blobs (by sha256, base64 in JSON) they refer to."""

    events: list[Event]
    blobs: dict[Sha256, Base64Bytes] = {}


def encode_batch(events: list[Event], blobs: dict[str, bytes], encoding: str = "zstd") -> bytes:
    """The request body for a batch, compressed with ``encoding``."""
    body = UploadBatch.model_construct(events=events, blobs=blobs).model_dump_json(
        exclude_none=True
    ).encode()
    if encoding == "zstd":
        return zstandard.ZstdCompressor(level=3).compress(body)
    if encoding == "gzip":
        return gzip.compress(body, compresslevel=6)
    if encoding == "identity":
        return body
    raise ValueError(f"unknown content encoding {encoding!r}; use one of {ENCODINGS}")

