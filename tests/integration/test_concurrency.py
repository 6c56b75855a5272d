"""One SentenceTransformer(GlotPooling) model shared by four threads that call ``encode`` at the same moment.

Each thread encodes its own sentence list several times, every round released together by a
``threading.Barrier``; every result must equal what a single thread gets encoding the same lists one
after another. GlotPooling keeps no per-call state on the module (graphs and their caches are built per
call), so concurrent calls cannot see each other's batches.
"""

from __future__ import annotations

import random
import threading

import numpy as np
import pytest
import torch
from sentence_transformers import SentenceTransformer

from sentence_transformers_glot import GlotPooling
from sentence_transformers_glot._compat import Transformer, token_dimension

THREADS = 4
ROUNDS = 5
WORDS = [f"w{i}" for i in range(60)] + list("abcdefghijklmnopqrstuvwxyz")


def sentence_lists(seed: int, per_thread: int = 12) -> list[list[str]]:
    """A different list per thread, 1..30 words a sentence, so batches have different padded lengths."""
    rng = random.Random(seed)
    return [
        [" ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 30))) for _ in range(per_thread)]
        for _ in range(THREADS)
    ]


def build(backbone_dir: str, **glot) -> SentenceTransformer:
    transformer = Transformer(backbone_dir, max_seq_length=64)
    torch.manual_seed(0)
    return SentenceTransformer(modules=[transformer, GlotPooling(token_dimension(transformer), **glot)], device="cpu")


def encode_concurrently(model: SentenceTransformer, lists: list[list[str]], rounds: int, batch_size: int):
    """Run ``rounds`` rounds; in each, all threads start ``encode`` together. Returns results[thread][round]."""
    barrier = threading.Barrier(THREADS, timeout=60)
    results: list[list[np.ndarray]] = [[] for _ in range(THREADS)]
    errors: list[BaseException] = []

    def work(index: int) -> None:
        try:
            for _ in range(rounds):
                barrier.wait()
                results[index].append(model.encode(lists[index], batch_size=batch_size))
        except BaseException as err:  # noqa: BLE001 - re-raised in the main thread below
            errors.append(err)
            barrier.abort()  # release the other threads instead of letting them wait for the timeout

    threads = [threading.Thread(target=work, args=(i,), name=f"encode-{i}") for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "an encode thread hung"
    real = [e for e in errors if not isinstance(e, threading.BrokenBarrierError)]
    if real or errors:
        raise (real or errors)[0]
    return results


def assert_same_as_sequential(model: SentenceTransformer, lists: list[list[str]], rounds: int, batch_size: int):
    expected = [model.encode(sentences, batch_size=batch_size) for sentences in lists]  # one thread, in turn
    assert all(np.isfinite(e).all() for e in expected)
    results = encode_concurrently(model, lists, rounds, batch_size)
    for index, per_round in enumerate(results):
        assert len(per_round) == rounds
        for round_, got in enumerate(per_round):
            assert got.shape == expected[index].shape
            # 1 torch thread per call: same kernels on the same batches, so equal bit for bit (1e-6 allowed)
            assert np.array_equal(got, expected[index]) or np.abs(got - expected[index]).max() <= 1e-6, (
                index, round_, float(np.abs(got - expected[index]).max()))
    # the lists differ, so a thread that got another thread's batch would have been caught above
    assert not np.array_equal(expected[0][:1], expected[1][:1])


@pytest.mark.parametrize("backend", ["dense", "scatter"])
@pytest.mark.parametrize("glot", [{"threshold": 0.3}, {"threshold": None, "top_k": 3, "conv": "gat"}],
                         ids=["threshold-sage", "topk-gat"])
def test_threads_sharing_a_tiny_bert_model_match_sequential_encoding(tiny_bert_dir, backend, glot):
    model = build(tiny_bert_dir, backend=backend, **glot)
    assert_same_as_sequential(model, sentence_lists(seed=0), rounds=ROUNDS, batch_size=4)


def test_threads_sharing_a_decoder_model_match_sequential_encoding(tiny_llama_dir):
    """Left padding and a decoder backbone: same property."""
    model = build(tiny_llama_dir, threshold=0.3, backend="scatter")
    assert_same_as_sequential(model, sentence_lists(seed=1), rounds=3, batch_size=4)


@pytest.mark.parametrize("backend", ["dense", "scatter"])
def test_threads_sharing_minilm_match_sequential_encoding(minilm_dir, backend):
    model = build(minilm_dir, backend=backend)  # the paper's defaults: tau 0.8, K 2, hidden 256
    lists = [
        ["A man is playing a guitar.", "Someone plays an instrument.", "The stock market fell sharply today."],
        ["Une phrase en français.", "", "Short."],
        ["The quick brown fox jumps over the lazy dog " * 3, "Dogs bark.", "Cats sleep a lot."],
        ["مرحبا بالعالم", "שלום עולם", "Emoji 😀 and text."],
    ]
    assert_same_as_sequential(model, lists, rounds=1, batch_size=2)
