"""The ``glot`` command line (also ``python -m sentence_transformers_glot``)."""

from __future__ import annotations

import argparse
import sys

DEMO_SENTENCES = [
    "A man is playing a guitar on stage.",
    "Someone performs music with a string instrument.",
    "The central bank raised interest rates again.",
    "Borrowing costs went up after the bank's decision.",
]


def _encode(args: argparse.Namespace) -> int:
    import numpy as np
    import torch
    from sentence_transformers import SentenceTransformer

    from sentence_transformers_glot import GlotPooling, load_glot_model
    from sentence_transformers_glot._compat import Transformer, token_dimension
    from sentence_transformers_glot.backbones import resolve_backbone

    torch.set_num_threads(args.threads)
    sentences = args.sentences or DEMO_SENTENCES
    if args.model:
        model = load_glot_model(args.model, device="cpu")
    else:
        transformer = Transformer(resolve_backbone(args.backbone), max_seq_length=args.max_length)
        torch.manual_seed(args.seed)
        pooling = GlotPooling(token_dimension(transformer), threshold=args.threshold,
                              num_layers=args.num_layers)
        model = SentenceTransformer(modules=[transformer, pooling], device="cpu")
    embeddings = model.encode(sentences, batch_size=args.batch_size, show_progress_bar=len(sentences) > 256)
    print(f"encoded {len(sentences)} sentences -> {embeddings.shape[1]}-d embeddings with {model[-1]!r}")
    if args.output:
        np.save(args.output, embeddings)
        print(f"saved to {args.output}")
    normed = embeddings / np.linalg.norm(embeddings, axis=1, keepdims=True)
    sims = normed @ normed.T
    print("cosine similarity:")
    for i, sentence in enumerate(sentences[:8]):
        print("  " + " ".join(f"{s:5.2f}" for s in sims[i, :8]) + f"  {sentence[:60]}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="glot", description="GLOT pooling for sentence-transformers.")
    commands = parser.add_subparsers(dest="command", required=True)
    encode = commands.add_parser("encode", help="encode sentences with a saved GLOT model or a fresh GLOT head")
    encode.add_argument("sentences", nargs="*", help="sentences to encode (default: four demo sentences)")
    encode.add_argument("--model", help="a saved GLOT model folder (otherwise a fresh, untrained head)")
    encode.add_argument("--backbone", default="minilm", help="'minilm' (offline), a local folder or a Hub id")
    encode.add_argument("--threshold", type=float, default=0.8)
    encode.add_argument("--num-layers", type=int, default=2)
    encode.add_argument("--max-length", type=int, default=128)
    encode.add_argument("--batch-size", type=int, default=32)
    encode.add_argument("--threads", type=int, default=1, help="torch threads (1 is fastest on small CPUs)")
    encode.add_argument("--seed", type=int, default=0)
    encode.add_argument("--output", help="save the embeddings as a .npy file")
    encode.set_defaults(run=_encode)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
