"""What GLOT pooling adds to ``SentenceTransformer.encode``: wall time with GlotPooling over mean ``Pooling``.

What is measured: ``model.encode(sentences, batch_size=32)`` on the first ``--sentences`` (2,000)
movie-review sentences of the offline ``movie-polarity`` training split, for two models that share one
backbone ``Transformer`` module instance: ``[Transformer, GlotPooling(d)]`` (the default config: tau 0.8,
2 SAGE layers, hidden 256, jumping knowledge "cat", attention readout; untrained weights cost the same as
trained ones) and ``[Transformer, Pooling(d, "mean")]``. Both are warmed up on 64 sentences, then timed
``--repeats`` times each, alternating which goes first, so the machine's noise hits both alike. Reported:
the median wall time of each and the ratio of the medians (the target: <= 1.05 for MiniLM, <= 1.03 for
SmolLM2-135M), and, as the profile, the time of the pooling modules alone on the same batches (the
backbone's token states computed once and fed to both poolings).

Where the time goes (torch.profiler over the 32 batches of MiniLM's 1,000 sentences, 9-67 tokens, 1 thread,
2026-12-03): the matrix products take about three quarters, the attention readout's scorer ``W_m``
(``[x || h1 || h2]`` -> 448, as three column blocks) the largest; the rest is packing the real tokens and
scattering them back for the dense aggregation, the logistic, the ReLUs and the softmax. Per token the default
config costs 2 x 384 x 256 + 2 x 256 x 256 + 896 x 448 = 0.73 M multiply-adds, against about 10.6 M for
MiniLM's six layers and about 106 M for SmolLM2-135M's thirty; ``glot_flop_share`` counts both exactly on the
same batches, and ``overhead_over_flop_share`` compares the measured overhead with it.

Reproduce (about 20 min on 2 AMD EPYC cores at 1 thread; SmolLM2 dominates)::

    glot data fetch movie-polarity
    python -m benchmarks.speed.encode_overhead  # -> benchmarks/results/speed/encode_overhead.json
    python -m benchmarks.speed.encode_overhead --backbones minilm --repeats 3  # about 2 min

``--preset glot-plus`` times ``GlotPooling.preset("glot-plus", d, num_hidden_layers=...)`` beside the paper's
GLOT and mean pooling; the shared backbone then returns its hidden states (``output_hidden_states``) for all
three models, as a model with a layer mix must::

    python -m benchmarks.speed.encode_overhead --backbones minilm --preset glot-plus --sentences 1000 --repeats 3 \
        --output benchmarks/results/options/encode_overhead_glot_plus.json
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

TARGETS = {"minilm": 1.05, "smollm2-135m": 1.03}


def timed(fn) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def pooling_only(transformer, pooling_modules, sentences: list[str], batch_size: int) -> dict[str, float]:
    """Seconds each pooling module takes on the backbone's outputs for all batches (in encode's length order)."""
    order = sorted(sentences, key=len, reverse=True)
    features = []
    with torch.inference_mode():
        for start in range(0, len(order), batch_size):
            tokenize = getattr(transformer, "preprocess", None) or transformer.tokenize  # ST 6 / 5
            batch = tokenize(order[start : start + batch_size])
            features.append(transformer(dict(batch)))
        seconds = {}
        for name, module in pooling_modules.items():
            seconds[name] = timed(lambda: [module(dict(f)) for f in features])
    return seconds


def flops(transformer, pooling_modules, sentences: list[str], batch_size: int) -> dict[str, int]:
    """FLOPs (2 per multiply-add) of the backbone and of each pooling module on all batches, in encode's
    length order: the backbone's by ``torch.utils.flop_counter`` (matrix products and attention), the
    poolings' by the FLOP-floor script's product recorder, which also counts in-place products (``addmm_``)
    and the edge list's sparse products, which ``flop_counter`` does not see."""
    from torch.utils.flop_counter import FlopCounterMode

    from benchmarks.speed.flop_floor import RecordProducts, product_flops

    order = sorted(sentences, key=len, reverse=True)
    tokenize = getattr(transformer, "preprocess", None) or transformer.tokenize  # ST 6 / 5
    counts = {"backbone": 0, **{name: 0 for name in pooling_modules}}
    with torch.inference_mode():
        for start in range(0, len(order), batch_size):
            batch = tokenize(order[start : start + batch_size])
            with FlopCounterMode(display=False) as counter:
                features = transformer(dict(batch))
            counts["backbone"] += counter.get_total_flops()
            for name, module in pooling_modules.items():
                with RecordProducts() as recorder:
                    module(dict(features))
                counts[name] += sum(product_flops(func, layout) for func, layout, _ in recorder.calls)
    return counts


def measure(backbone: str, sentences: list[str], batch_size: int, repeats: int, preset: str | None = None) -> dict:
    from sentence_transformers import SentenceTransformer

    from sentence_transformers_glot import GlotPooling
    from sentence_transformers_glot._compat import Pooling, Transformer, token_dimension
    from sentence_transformers_glot.backbones.registry import resolve_backbone

    transformer = Transformer(resolve_backbone(backbone), max_seq_length=128)
    dim = token_dimension(transformer)
    torch.manual_seed(0)
    poolings = {"glot": GlotPooling(dim), "mean": Pooling(dim, pooling_mode="mean")}
    if preset is not None:
        config = transformer.auto_model.config
        config.output_hidden_states = True  # the layer mix reads all_layer_embeddings
        poolings[preset] = GlotPooling.preset(preset, dim, num_hidden_layers=config.num_hidden_layers)
    models = {name: SentenceTransformer(modules=[transformer, p], device="cpu").eval() for name, p in poolings.items()}
    for model in models.values():
        model.encode(sentences[:64], batch_size=batch_size, show_progress_bar=False)
    times: dict[str, list[float]] = {name: [] for name in models}
    for r in range(repeats):
        names = list(models)
        for name in (names if r % 2 == 0 else names[::-1]):
            times[name].append(timed(lambda: models[name].encode(sentences, batch_size=batch_size,
                                                                  show_progress_bar=False)))
            print(f"  {backbone} repeat {r + 1}/{repeats} {name}: {times[name][-1]:.2f} s", flush=True)
    alone = pooling_only(transformer, poolings, sentences, batch_size)
    counted = flops(transformer, poolings, sentences, batch_size)
    flop_share = counted["glot"] / counted["backbone"]  # GLOT's FLOPs over the backbone's
    glot, mean = statistics.median(times["glot"]), statistics.median(times["mean"])
    extra = {}
    if preset is not None:
        extra = {"preset": preset, "preset_s": times[preset], "preset_median_s": statistics.median(times[preset]),
                 "preset_ratio": statistics.median(times[preset]) / statistics.median(times["mean"]),
                 "parameters": {name: sum(p.numel() for p in module.parameters())
                                for name, module in poolings.items()}}
    return {**extra, "backbone": backbone, "dim": dim, "glot_s": times["glot"], "mean_s": times["mean"],
            "glot_median_s": glot, "mean_median_s": mean, "ratio": glot / mean,
            "pooling_only_s": alone, "target": TARGETS.get(backbone), "met": glot / mean <= TARGETS.get(backbone, 1.05),
            "flops": counted, "glot_flop_share": flop_share,
            "overhead_over_flop_share": (glot / mean - 1) / flop_share,
            "flop_target_met": (glot / mean - 1) <= 1.1 * flop_share}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backbones", nargs="+", default=list(TARGETS))
    parser.add_argument("--sentences", type=int, default=2000)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--preset", default=None, help="also time GlotPooling.preset(NAME) (e.g. glot-plus)")
    parser.add_argument("--output", default="benchmarks/results/speed/encode_overhead.json")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)

    from sentence_transformers_glot.data import load_task
    from sentence_transformers_glot.evaluation.report import script_command, write_json

    sentences = load_task("movie-polarity").splits["train"].texts[: args.sentences]
    rows = [measure(b, sentences, args.batch_size, args.repeats, args.preset) for b in args.backbones]
    print(f"\nencode {len(sentences)} movie-review sentences, batch {args.batch_size}, {args.threads} thread(s), "
          f"median of {args.repeats}")
    print(f"{'backbone':<14}{'glot s':>9}{'mean s':>9}{'ratio':>8}{'target':>8}{'FLOP share':>12}{'overhead/share':>16}"
          "  pooling alone: glot / mean s")
    for row in rows:
        print(f"{row['backbone']:<14}{row['glot_median_s']:>9.2f}{row['mean_median_s']:>9.2f}{row['ratio']:>8.3f}"
              f"{row['target'] or '':>8}{100 * row['glot_flop_share']:>11.2f}%{row['overhead_over_flop_share']:>16.2f}"
              f"  {row['pooling_only_s']['glot']:.2f} / {row['pooling_only_s']['mean']:.3f}")
        if args.preset:
            print(f"{'':<14}{args.preset}: {row['preset_median_s']:.2f} s, ratio to mean {row['preset_ratio']:.3f}, "
                  f"pooling alone {row['pooling_only_s'][args.preset]:.2f} s; parameters {row['parameters']}")
    write_json(args.output, script_command(argv), sentences=len(sentences), batch_size=args.batch_size,
               repeats=args.repeats, rows=rows)
    print(f"results: {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
