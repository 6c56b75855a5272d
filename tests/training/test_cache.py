"""The hidden-state cache: reuse, key coverage, resumable builds, corruption detection, layer mixes, and builds
shared by processes."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from helpers import CACHE_TEXTS as TEXTS
from helpers import TESTS, CountingEncoder

from sentence_transformers_glot.training.cache import StateCache, backbone_fingerprint, cache_key


def expected_batch(indices):
    rows = [CountingEncoder()([TEXTS[i]])[0] for i in indices]
    return rows


def test_states_round_trip_and_are_reused(tmp_path):
    cache = StateCache(tmp_path, shard_size=8, dtype="float32")
    encoder = CountingEncoder()
    states = cache.get_or_build(TEXTS, encoder, "fp", max_length=16, batch_size=4)
    assert len(states) == 25 and states.dim == 4
    x, mask = states.batch([3, 0, 24, 9])
    for row, expected in enumerate(expected_batch([3, 0, 24, 9])):
        n = len(expected)
        assert mask[row].sum() == n
        np.testing.assert_array_equal(x[row, :n].numpy(), expected)
        assert not x[row, n:].any()
    calls = encoder.calls
    cache.get_or_build(TEXTS, encoder, "fp", max_length=16)
    assert encoder.calls == calls, "a complete entry must not call the backbone again"


def test_key_covers_backbone_length_layer_dtype_and_texts():
    base = cache_key("fp", TEXTS, 128, -1, "float16")
    assert base == cache_key("fp", list(TEXTS), 128, -1, "float16")
    others = [cache_key("fp2", TEXTS, 128, -1, "float16"), cache_key("fp", TEXTS, 64, -1, "float16"),
              cache_key("fp", TEXTS, 128, -2, "float16"), cache_key("fp", TEXTS, 128, -1, "float32"),
              cache_key("fp", TEXTS[:-1], 128, -1, "float16"), cache_key("fp", TEXTS[::-1], 128, -1, "float16"),
              cache_key("fp", ["ab", "c"], 128, -1, "float16")]
    assert len({base, *others}) == 1 + len(others)
    assert cache_key("fp", ["ab", "c"], 128, -1, "float16") != cache_key("fp", ["a", "bc"], 128, -1, "float16")


def test_killed_build_resumes_at_the_missing_shards(tmp_path):
    cache = StateCache(tmp_path, shard_size=8, dtype="float32")
    with pytest.raises(KeyboardInterrupt):
        cache.get_or_build(TEXTS, CountingEncoder(fail_after=16), "fp", max_length=16, batch_size=8)
    resumed = CountingEncoder()
    states = cache.get_or_build(TEXTS, resumed, "fp", max_length=16, batch_size=8)
    assert resumed.texts == 25 - 16, "only the two unfinished shards are encoded again"
    x, mask = states.batch(range(25))
    for row, expected in enumerate(expected_batch(range(25))):
        np.testing.assert_array_equal(x[row, : len(expected)].numpy(), expected)


@pytest.mark.parametrize("damage", ["flip-byte", "truncate", "drop-record", "bad-record"])
def test_corrupted_shard_is_detected_and_rebuilt(tmp_path, damage):
    cache = StateCache(tmp_path, shard_size=8, dtype="float32")
    cache.get_or_build(TEXTS, CountingEncoder(), "fp", max_length=16)
    folder = next(p for p in tmp_path.iterdir() if p.is_dir())
    tokens = folder / "shard-00001.tokens.npy"
    record = folder / "shard-00001.json"
    if damage == "flip-byte":
        data = bytearray(tokens.read_bytes())
        data[-3] ^= 0xFF
        tokens.write_bytes(bytes(data))
    elif damage == "truncate":
        tokens.write_bytes(tokens.read_bytes()[:50])
    elif damage == "drop-record":
        record.unlink()
    else:
        record.write_text("{not json")
    encoder = CountingEncoder()
    states = cache.get_or_build(TEXTS, encoder, "fp", max_length=16)
    assert encoder.texts == 8, "exactly the damaged shard is rebuilt"
    x, _ = states.batch([9])
    np.testing.assert_array_equal(x[0, : len(TEXTS[9].split())].numpy(), expected_batch([9])[0])


def test_float16_storage_is_close_and_half_the_size(tmp_path):
    s16 = StateCache(tmp_path / "a", shard_size=8, dtype="float16").get_or_build(TEXTS, CountingEncoder(), "fp", 16)
    s32 = StateCache(tmp_path / "b", shard_size=8, dtype="float32").get_or_build(TEXTS, CountingEncoder(), "fp", 16)
    np.testing.assert_allclose(s16.batch(range(25))[0].numpy(), s32.batch(range(25))[0].numpy(), rtol=1e-3)
    assert s16.shards[0].nbytes * 2 == s32.shards[0].nbytes


def test_states_beyond_float16_range_are_refused_with_the_fix(tmp_path):
    """A decoder's first-token state in a middle layer can exceed 65504; stored as float16 it would be inf."""
    def encode(texts):
        return [np.array([[7e4, 1.0], [0.5, 0.25]], dtype=np.float32) for _ in texts]

    with pytest.raises(ValueError, match=r"toy/train reach 7e\+04, beyond float16's range.*--cache-dtype float32"):
        StateCache(tmp_path / "half").get_or_build(["a", "b"], encode, "fp", 8, description="toy/train")
    x, _ = StateCache(tmp_path / "full", dtype="float32").get_or_build(["a", "b"], encode, "fp", 8).batch([0, 1])
    assert float(x.max()) == 7e4


def test_empty_text_list_is_an_error(tmp_path):
    with pytest.raises(ValueError, match="no texts"):
        StateCache(tmp_path).get_or_build([], CountingEncoder(), "fp", 16, description="demo/train")
    with pytest.raises(ValueError, match="dtype"):
        StateCache(tmp_path, dtype="int8")


def test_fingerprint_changes_with_weights_and_config(tiny_bert_dir, tmp_path):
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(tiny_bert_dir, copy)
    assert backbone_fingerprint(str(copy)) == backbone_fingerprint(tiny_bert_dir)
    config = json.loads((copy / "config.json").read_text())
    config["layer_norm_eps"] = 1e-6
    (copy / "config.json").write_text(json.dumps(config))
    assert backbone_fingerprint(str(copy)) != backbone_fingerprint(tiny_bert_dir)


def test_full_disk_during_a_shard_write_leaves_nothing_trusted(tmp_path, monkeypatch):
    import errno

    import sentence_transformers_glot.training.cache as cache_module

    real_save = cache_module._save_npy
    writes = {"n": 0}

    def failing_save(path, array):
        writes["n"] += 1
        if writes["n"] == 3:  # the second shard's tokens file
            with open(path, "wb") as f:
                f.write(b"\x93NUMPY partial")
            raise OSError(errno.ENOSPC, "No space left on device")
        real_save(path, array)

    monkeypatch.setattr(cache_module, "_save_npy", failing_save)
    cache = StateCache(tmp_path, shard_size=8, dtype="float32")
    with pytest.raises(OSError, match="(?i)no space left"):
        cache.get_or_build(TEXTS, CountingEncoder(), "fp", max_length=16)
    folder = next(p for p in tmp_path.iterdir() if p.is_dir())
    assert not list(folder.glob(".shard-*")), "temporary files are removed"
    assert not (folder / "shard-00001.json").exists()
    monkeypatch.setattr(cache_module, "_save_npy", real_save)
    encoder = CountingEncoder()
    states = cache.get_or_build(TEXTS, encoder, "fp", max_length=16)
    assert encoder.texts == 25 - 8
    np.testing.assert_array_equal(states.batch([12])[0][0, : len(TEXTS[12].split())].numpy(), expected_batch([12])[0])


def test_a_multi_layer_cache_entry_stacks_the_layers_under_its_own_key(tmp_path):
    from sentence_transformers_glot.training.cache import StateCache, cache_key

    texts = ["a b c", "d e", "f"]

    def encode(batch):
        return [np.stack([np.full((len(t.split()), 4), layer, np.float32) for layer in (1, 2)], axis=1) for t in batch]

    states = StateCache(tmp_path, dtype="float32").get_or_build(texts, encode, "fp", 16, layer=[1, 2])
    x, mask = states.batch([0, 1, 2])
    assert x.shape == (3, 3, 2, 4) and states.dim == 4
    assert torch.equal(x[0, :, 1], torch.full((3, 4), 2.0)) and not x[2, 1:].any()
    assert cache_key("fp", texts, 16, [1, 2], "float32") != cache_key("fp", texts, 16, -1, "float32")
    assert cache_key("fp", texts, 16, [1, 2], "float32") != cache_key("fp", texts, 16, [2, 1], "float32")


BUILDER = """
import os, signal, sys, time
sys.path.insert(0, {tests!r})
import numpy as np
from helpers import CACHE_TEXTS as TEXTS, CountingEncoder
from sentence_transformers_glot.training.cache import StateCache

encoder = CountingEncoder()
kill_after = {kill_after!r}

def encode(texts):
    if kill_after is not None and encoder.texts >= kill_after:
        os.kill(os.getpid(), signal.SIGKILL)
    time.sleep(0.3)  # a 2 s build: the second builder arrives while the first holds the lock
    return encoder(texts)

cache = StateCache({root!r}, shard_size=8, dtype="float32")
states = cache.get_or_build(TEXTS, encode, "fp", max_length=16, batch_size=4)
x, mask = states.batch(range(len(TEXTS)))
np.save({out!r}, x.numpy())
print(encoder.texts)
"""


def start_builder(tmp_path, name: str, kill_after: int | None = None):
    import subprocess
    import sys

    code = BUILDER.format(tests=str(TESTS), kill_after=kill_after, root=str(tmp_path / "cache"),
                          out=str(tmp_path / f"{name}.npy"))
    return subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)


def test_a_build_killed_with_sigkill_resumes_at_the_missing_shards(tmp_path):
    import signal

    killed = start_builder(tmp_path, "killed", kill_after=16)  # dies inside the third shard
    killed.communicate(timeout=120)
    assert killed.returncode == -signal.SIGKILL
    encoder = CountingEncoder()
    states = StateCache(tmp_path / "cache", shard_size=8, dtype="float32").get_or_build(TEXTS, encoder, "fp", 16)
    assert encoder.texts == 25 - 16, "the two shards finished before the kill are kept"
    x, _ = states.batch(range(25))
    for row, expected in enumerate(expected_batch(range(25))):
        np.testing.assert_array_equal(x[row, : len(expected)].numpy(), expected)


def test_two_processes_building_the_same_entry_encode_it_once(tmp_path):
    builders = [start_builder(tmp_path, f"b{i}") for i in range(2)]
    encoded = [int(b.communicate(timeout=120)[0].strip().splitlines()[-1]) for b in builders]
    assert [b.returncode for b in builders] == [0, 0]
    assert sorted(encoded) == [0, 25], "the lock lets one process build while the other waits, then reads"
    first, second = (np.load(tmp_path / f"b{i}.npy") for i in range(2))
    np.testing.assert_array_equal(first, second)
    encoder = CountingEncoder()
    StateCache(tmp_path / "cache", shard_size=8, dtype="float32").get_or_build(TEXTS, encoder, "fp", 16)
    assert encoder.texts == 0, "every shard the two processes left is complete and verified"


def _distributed_build(rank: int, world: int, port: int, root: str, log: str, partial: bool) -> None:
    """One gloo rank: build the entry with a recording encoder; write which texts this rank encoded."""
    import torch.distributed as dist

    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=world)
    try:
        seen: list[str] = []

        def encode(texts: list[str]) -> list[np.ndarray]:
            seen.extend(texts)
            return CountingEncoder()(texts)

        states = StateCache(root, shard_size=4, dtype="float32").get_or_build(TEXTS, encode, "fp", max_length=16,
                                                                              batch_size=3)
        x, mask = states.batch(range(len(TEXTS)))  # every rank reads the complete entry
        assert int(mask.sum()) == sum(len(t.split()) for t in TEXTS)
        with open(f"{log}.{rank}", "w") as f:
            json.dump(seen, f)
    finally:
        dist.destroy_process_group()


@pytest.mark.parametrize("partial", [False, True])
def test_two_gloo_processes_share_the_build_and_match_one_process_byte_for_byte(tmp_path, partial):
    import socket

    import torch.multiprocessing as mp

    single = StateCache(tmp_path / "single", shard_size=4, dtype="float32")
    single.get_or_build(TEXTS, CountingEncoder(), "fp", max_length=16, batch_size=3)
    done = []
    if partial:  # a killed earlier build left shards 0-2; only the other four are encoded, between the two ranks
        with pytest.raises(KeyboardInterrupt):
            StateCache(tmp_path / "shared", shard_size=4, dtype="float32").get_or_build(
                TEXTS, CountingEncoder(fail_after=12), "fp", max_length=16, batch_size=4)
        done = TEXTS[:12]
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log = str(tmp_path / "encoded")
    mp.spawn(_distributed_build, args=(2, port, str(tmp_path / "shared"), log, partial), nprocs=2, join=True)

    encoded = [json.loads((tmp_path / f"encoded.{rank}").read_text()) for rank in range(2)]
    assert sorted(encoded[0] + encoded[1]) == sorted(set(TEXTS) - set(done)), "every text encoded exactly once"
    assert encoded[0] and encoded[1], "both ranks took a share"
    (entry,) = [p for p in (tmp_path / "single").iterdir() if p.is_dir()]
    files = sorted(p.name for p in entry.iterdir() if p.suffix in (".npy", ".json"))
    shared = tmp_path / "shared" / entry.name
    assert files == sorted(p.name for p in shared.iterdir() if p.suffix in (".npy", ".json"))
    for name in files:
        assert (entry / name).read_bytes() == (shared / name).read_bytes(), name


def test_packed_states_are_the_padded_ones_without_padding(tmp_path):
    """Training reads the cache packed: the same values and mask as ``batch``, never padded."""
    states = StateCache(tmp_path, dtype="float16", shard_size=8).get_or_build(TEXTS, CountingEncoder(), "fp", 16)
    index = [3, 0, 24, 9]
    x, mask = states.batch(index)
    rows, real = states.packed(index)
    assert torch.equal(real, mask) and rows.dtype == torch.float32 and rows.shape == (int(mask.sum()), x.shape[-1])
    assert torch.equal(rows, x[mask])
