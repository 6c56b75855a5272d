"""``glot encode`` and ``glot predict``: embeddings and predictions from a saved model (or a fresh head)."""

from __future__ import annotations

import argparse
import os
import sys

from sentence_transformers_glot.cli_args import SEED, THREADS, add_command, add_glot_flags, glot_kwargs, number

DEMO_SENTENCES = [
    "A man is playing a guitar on stage.",
    "Someone performs music with a string instrument.",
    "The central bank raised interest rates again.",
    "Borrowing costs went up after the bank's decision.",
]
#: ``glot encode``'s backbone and truncation length for a fresh head.
ENCODE_BACKBONE = "minilm"
ENCODE_MAX_LENGTH = 128


def _encode(args: argparse.Namespace) -> int:
    import numpy as np
    import torch
    from sentence_transformers import SentenceTransformer

    from sentence_transformers_glot import GlotPooling, load_glot_model
    from sentence_transformers_glot._compat import Transformer, token_dimension
    from sentence_transformers_glot.backbones.registry import check_max_length, resolve_backbone
    from sentence_transformers_glot.embeddings_file import check_output, command_texts, write_embeddings
    from sentence_transformers_glot.io import check_writable_folder

    # every flag is checked before the model loads and anything is encoded
    glot = glot_kwargs(args)
    if args.model:
        fresh = [flag for flag, given in (("--backbone", args.backbone is not None), ("--seed", args.seed is not None),
                                          *(("--" + k.replace("_", "-"), True) for k in glot)) if given]
        if fresh:
            raise ValueError(f"glot encode: {', '.join(fresh)} build a fresh head, but --model loads a trained one; "
                             f"drop {', '.join(fresh)} (or --model)")
        if args.max_length is not None and os.path.isdir(args.model):  # the saved backbone's config, before loading
            check_max_length(args.model, args.max_length, "--max-length")
    else:
        backbone = args.backbone or ENCODE_BACKBONE
        max_length = check_max_length(backbone, args.max_length or ENCODE_MAX_LENGTH, "--max-length")
    if args.output:
        check_writable_folder(check_output(args.output).absolute().parent, "--output")
    sentences = command_texts(args.sentences, args.input, "encode", args.encoding) or DEMO_SENTENCES
    torch.set_num_threads(args.threads)
    if args.model:
        model = load_glot_model(args.model, device="cpu")
        if args.max_length is not None:
            model.max_seq_length = check_max_length(model[0].auto_model.config, args.max_length, "--max-length")
    else:
        print("glot encode: warning: no --model given, so the GLOT head is fresh and untrained (random weights); "
              "train one with `glot train` and pass its model folder with --model", file=sys.stderr)
        transformer = Transformer(resolve_backbone(backbone), max_seq_length=max_length)
        torch.manual_seed(args.seed or 0)
        pooling = GlotPooling(token_dimension(transformer), **glot)
        model = SentenceTransformer(modules=[transformer, pooling], device="cpu")
    embeddings = model.encode(sentences, batch_size=args.batch_size, show_progress_bar=len(sentences) > 256)
    print(f"encoded {len(sentences)} sentences -> {embeddings.shape[1]}-d embeddings with {model[1]!r}",
          file=sys.stderr if args.output else sys.stdout)
    if args.output:
        print(f"saved to {write_embeddings(args.output, sentences, embeddings)}", file=sys.stderr)
        return 0
    normed = embeddings / np.linalg.norm(embeddings, axis=1, keepdims=True)
    sims = normed @ normed.T
    print("cosine similarity:")
    for i, sentence in enumerate(sentences[:8]):
        print("  " + " ".join(f"{s:5.2f}" for s in sims[i, :8]) + f"  {sentence[:60]}")
    return 0


def _predict(args: argparse.Namespace) -> int:
    import torch

    from sentence_transformers_glot.embeddings_file import command_texts, read_text_pairs
    from sentence_transformers_glot.training.predict import load_predictor

    if args.input and args.input_b and not args.texts:  # two files: pairs stay line-aligned
        texts, texts_b = read_text_pairs(args.input, args.input_b, encoding=args.encoding)
    else:
        texts = command_texts(args.texts, args.input, "predict", args.encoding)
        texts_b = None
        if args.input_b:
            texts_b = command_texts([], args.input_b, "predict", args.encoding)
            if len(texts_b) != len(texts):
                raise ValueError(f"glot predict: {len(texts)} texts but {len(texts_b)} in --input-b; each text "
                                 "needs its partner")
    if not texts:
        raise ValueError("glot predict: no texts; pass them as arguments or with --input FILE ('-': stdin)")
    torch.set_num_threads(args.threads)
    predictions = load_predictor(args.model).predict(texts, texts_b, batch_size=args.batch_size)
    for i, (text, predicted) in enumerate(zip(texts, predictions)):
        shown = text if texts_b is None else f"{text}\t{texts_b[i]}"
        print(f"{predicted}\t{shown}")
    return 0


def add_embed_commands(commands: argparse._SubParsersAction) -> None:
    """The ``predict`` and ``encode`` subcommands."""
    predict = add_command(commands, "predict", help="predict with a trained model folder and its task head")
    predict.add_argument("texts", nargs="*", help="texts to predict for")
    predict.add_argument("--model", required=True, metavar="DIR",
                         help="a training run's model folder (runs/<run>/model)")
    predict.add_argument("--input", metavar="FILE", help="read texts from FILE, one per line ('-': stdin)")
    predict.add_argument("--input-b", metavar="FILE", help="the second texts of pairs, one per line, for pair heads")
    predict.add_argument("--encoding", default="utf-8", help="text encoding of the --input files")
    predict.add_argument("--batch-size", type=number(int, 1), default=32, help="texts per forward pass")
    predict.add_argument("--threads", type=THREADS, default=1, help="torch threads")
    predict.set_defaults(run=_predict)
    encode = add_command(commands, "encode", help="encode sentences with a saved GLOT model or a fresh GLOT head")
    encode.add_argument("sentences", nargs="*", help="sentences to encode (default: four demo sentences)")
    encode.add_argument("--model", help="a saved GLOT model folder (otherwise a fresh, untrained head)")
    encode.add_argument("--backbone", default=None,
                        help=f"short name, local folder or Hugging Face id (default: {ENCODE_BACKBONE})")
    encode.add_argument("--max-length", type=number(int, 1), default=None,
                        help=f"backbone truncation length (default: {ENCODE_MAX_LENGTH}, or the --model's own)")
    encode.add_argument("--batch-size", type=number(int, 1), default=32, help="sentences per forward pass")
    encode.add_argument("--threads", type=THREADS, default=1, help="torch threads (1 is fastest on small CPUs)")
    encode.add_argument("--seed", type=SEED, default=None,
                        help="initialisation of a fresh (untrained) head (default: 0)")
    encode.add_argument("--input", metavar="FILE", help="read texts from FILE, one per line ('-': stdin)")
    encode.add_argument("--encoding", default="utf-8", help="text encoding of the --input file")
    encode.add_argument("--output", metavar="FILE",
                        help="write the embeddings; the extension picks the format: .npy, .jsonl or .csv")
    add_glot_flags(encode)
    encode.set_defaults(run=_encode)
