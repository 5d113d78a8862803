"""Decompression stops at the limit: a bomb costs at most the limit, never its full size."""

from __future__ import annotations

import tracemalloc
import zlib

import pytest
import zstandard

from demoforge.collect.body import BodyError, decompress

LIMIT = 1 << 20
BOMB_SIZE = 256 << 20  # what the body would inflate to


def _zstd_bomb() -> bytes:
    compressor = zstandard.ZstdCompressor(level=1).compressobj()
    chunk = bytes(1 << 20)
    return b"".join(compressor.compress(chunk) for _ in range(BOMB_SIZE >> 20)) + compressor.flush()


def _gzip_bomb() -> bytes:
    compressor = zlib.compressobj(1, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    chunk = bytes(1 << 20)
    return b"".join(compressor.compress(chunk) for _ in range(BOMB_SIZE >> 20)) + compressor.flush()


@pytest.mark.parametrize(("encoding", "make"), [("zstd", _zstd_bomb), ("gzip", _gzip_bomb)])
def test_bomb_is_refused_without_inflating_it(encoding, make):
    body = make()
    assert len(body) < 2 << 20
    tracemalloc.start()
    try:
        with pytest.raises(BodyError) as refused:
            decompress(body, encoding, LIMIT)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert refused.value.status == 413
    assert peak < 8 * LIMIT  # far below the 256 MiB the bomb inflates to


@pytest.mark.parametrize("encoding", ["zstd", "gzip"])
def test_bodies_within_the_limit_round_trip(encoding):
    data = b'{"events": []}' * 1000
    body = zstandard.ZstdCompressor().compress(data) if encoding == "zstd" else zlib.compress(data, wbits=31)
    assert decompress(body, encoding, LIMIT) == data


def test_truncated_gzip_is_malformed():
    body = zlib.compress(b"x" * 10_000, wbits=31)[:-10]
    with pytest.raises(BodyError) as refused:
        decompress(body, "gzip", LIMIT)
    assert refused.value.status == 400
