"""Why GLOT collapses on decoder backbones: token states, graphs and training dynamics, per variant.

For one (backbone, task, layer) this reads the hidden-state cache (built on first use, as ``glot train`` does)
and reports, in one JSON file:

* **states**: the mean L2 norm of the token state at each of the first positions and at the rest, the share of
  sentences whose largest-norm token is the first one, and how alike the first tokens of different sentences
  are (mean cosine between sentences' first tokens, against the same for their second tokens): an attention
  sink is a huge-norm first state that is nearly the same in every sentence;
* **graph**: the edge density of the cosine graph at tau 0.8 with and without the first token, and the share
  of edges that touch it;
* **runs**: for every variant x learning rate x seed, an instrumented training run with the package's own
  pooling, head and optimiser settings: the loss and the gradient norm at every step, and after every epoch
  the validation metric, whether the predictions are one constant answer (``collapsed``), the readout's
  attention entropy (normalised by log n, 1 = uniform) and the attention weight on the first token.
  Each run also keeps every parameter group's median share of the squared gradient norm before clipping
  (``grad_share``: which module the global clipping norm answers to) and, at the end, the share of AdamW's
  coordinates whose denominator sqrt(v_hat) is under 10 eps (``adam_eps_share``: where eps, not the gradient,
  sets the step).

The variants are GLOT configurations and training settings (``--variants``), e.g. ``paper`` (the paper's
GLOT, no warm-up or clipping, sink kept) against the fixes one at a time and together. Runs are cheap
next to the cache; each is seeded, so the JSON is reproducible.

Reproduce (the cache is the benchmark's: same --max-train / --max-eval)::

    python -m benchmarks.quality.decoder_diagnosis --backbone gemma3-270m --task fiqa-pairs --max-train 2000 \\
        --max-eval 1000 --variants paper sink warmup+clip sink+warmup+clip \\
        --output benchmarks/results/decoders/diagnosis/gemma3-fiqa-pairs.json
    python -m benchmarks.quality.decoder_diagnosis \\
        --table benchmarks/results/decoders/diagnosis/*-fiqa-pairs.json   # the table
    python -m benchmarks.quality.decoder_diagnosis --plot benchmarks/results/decoders/diagnosis/runs.png \\
        benchmarks/results/decoders/diagnosis/*-fiqa-pairs.json                                       # the plot
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from sentence_transformers_glot.backbones.registry import is_decoder
from sentence_transformers_glot.evaluation.report import script_command
from sentence_transformers_glot.legacy import POOLING_BEFORE, TRAINING_BEFORE
from sentence_transformers_glot.metrics import compute_metric
from sentence_transformers_glot.nn.functional import exclude_first_token
from sentence_transformers_glot.nn.graph_builders import build_graph
from sentence_transformers_glot.nn.node_features import normalize_inputs
from sentence_transformers_glot.nn.packing import PackedNodes
from sentence_transformers_glot.nn.similarity import normalize_tokens
from sentence_transformers_glot.training.config import TrainConfig
from sentence_transformers_glot.training.evaluate import constant_prediction, predict_split, run_metric
from sentence_transformers_glot.training.inputs import cache_task_states, resolve_task
from sentence_transformers_glot.training.loop import warmup_factor
from sentence_transformers_glot.training.model import PoolingWithHead, build_head, build_pooling

#: name -> (GlotPooling options, TrainConfig settings). ``paper`` is what the benchmark ran before the fixes.
OLD_TRAINING = {name: TRAINING_BEFORE[name] for name in ("warmup_ratio", "max_grad_norm")}
_RAW = {"input_norm": POOLING_BEFORE["input_norm"]}  # the states as the backbone gives them (now "auto")
VARIANTS: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    "paper": ({"attention_sink": "keep", **_RAW}, OLD_TRAINING),
    "sink": ({"attention_sink": "exclude", **_RAW}, OLD_TRAINING),
    "sink+warmup": ({"attention_sink": "exclude", **_RAW}, {"max_grad_norm": None}),
    "warmup+clip": ({"attention_sink": "keep", **_RAW}, {}),
    "ln": ({"attention_sink": "keep", "input_norm": "layer"}, OLD_TRAINING),
    "auto-tau": ({"attention_sink": "keep", "threshold": "auto", **_RAW}, OLD_TRAINING),
    "sink+warmup+clip": ({"attention_sink": "exclude", **_RAW}, {}),
    "sink+warmup+clip+auto-tau": ({"attention_sink": "exclude", "threshold": "auto", **_RAW}, {}),
    "sink+warmup+clip+ln": ({"attention_sink": "exclude", "input_norm": "layer"}, {}),
}


def state_statistics(states, count: int = 256) -> dict[str, Any]:
    """Norms per position, where the largest-norm token sits, and how alike first tokens are across sentences."""
    x, mask = states.batch(np.arange(min(count, len(states))))
    if x.dim() == 4:
        x = x[:, :, -1]
    norms = x.norm(dim=-1)
    lengths = mask.sum(1)
    out: dict[str, Any] = {"sentences": int(len(x))}
    out["norm_by_position"] = {str(p): round(float(norms[mask[:, p], p].mean()), 2)
                               for p in range(min(6, x.shape[1])) if bool(mask[:, p].any())}
    rest = mask.clone()
    rest[:, :6] = False
    out["norm_rest"] = round(float(norms[rest].mean()), 2) if bool(rest.any()) else None
    out["norm_first_max"] = round(float(norms[:, 0].max()), 1)
    out["largest_norm_is_first_token"] = round(float((norms.masked_fill(~mask, -1).argmax(1) == 0).float().mean()), 3)
    unit = normalize_tokens(x)
    for position in (0, 1):
        keep = lengths > position
        v = unit[keep, position]
        sim = v @ v.T
        off = ~torch.eye(len(v), dtype=torch.bool)
        out[f"cosine_between_sentences_position_{position}"] = round(float(sim[off].mean()), 4)
    return out


def graph_statistics(states, count: int = 256, threshold: float = 0.8) -> dict[str, Any]:
    """Edge density at ``threshold`` with and without the first token, and the share of edges touching it."""
    x, mask = states.batch(np.arange(min(count, len(states))))
    if x.dim() == 4:
        x = x[:, :, -1]
    unit = normalize_tokens(torch.where(mask[..., None], x, 0.0))
    sim = unit @ unit.transpose(1, 2)
    eye = torch.eye(sim.shape[-1], dtype=torch.bool)
    out: dict[str, Any] = {"threshold": threshold}
    for name, m in (("all_tokens", mask), ("without_first", exclude_first_token(mask))):
        valid = m[:, :, None] & m[:, None, :] & ~eye
        edges = valid & (sim > threshold)
        out[f"density_{name}"] = round(float(edges.sum()) / max(1, int(valid.sum())), 4)
        out[f"mean_cosine_{name}"] = round(float(sim[valid].mean()), 4)
    valid = mask[:, :, None] & mask[:, None, :] & ~eye
    edges = valid & (sim > threshold)
    first = torch.zeros_like(mask)
    first[:, 0] = True
    touching = edges & (first[:, :, None] | first[:, None, :])
    out["edges_touching_first_token"] = round(float(touching.sum()) / max(1, int(edges.sum())), 4)
    return out


@torch.no_grad()
def readout_statistics(pooling, states, count: int = 256) -> dict[str, float] | None:
    """Mean normalised entropy of the readout's attention and its mean weight on the first real token."""
    if pooling.attention is None:
        return None
    x, mask = states.batch(np.arange(min(count, len(states))))
    real = mask
    mask = pooling.token_mask(real)
    nodes = PackedNodes.from_mask(mask)
    h = nodes.pack(x).float()
    if pooling.layers is not None:
        h = pooling.mix_layers(h)
    h = normalize_inputs(h, pooling.input_norm)
    if pooling.num_layers > 0:
        unit = nodes.to_padded(normalize_tokens(h))
        graph = build_graph(unit, mask, pooling.threshold, pooling.top_k, "dense", pooling.edge_weight,
                            normalized=True, edge_density=pooling.edge_density, nodes=nodes)
        h = pooling.gnn(h, graph)
    pi = pooling.attention.weights(h, nodes.batch_index, nodes.ptr, nodes.batch_size)
    weights = nodes.to_padded(pi[:, None]).squeeze(-1)  # (B, L), zero off the pooled tokens
    n = mask.sum(1).clamp(min=2).float()
    entropy = -(weights * torch.log(weights.clamp(min=1e-12))).sum(1) / torch.log(n)
    first_position = real.int().argmax(1)
    on_first = weights[torch.arange(len(weights)), first_position]
    return {"entropy": round(float(entropy.mean()), 4), "max_weight": round(float(weights.max(1).values.mean()), 4),
            "weight_on_first_token": round(float(on_first.mean()), 4)}


def parameter_groups(model: torch.nn.Module) -> dict[str, list[torch.nn.Parameter]]:
    """The trainable parameters by the module that owns them (``pooling.gnn.layers.0.lin_self``, ``head.linear``)."""
    groups: dict[str, list[torch.nn.Parameter]] = {}
    for name, parameter in model.named_parameters():
        if parameter.requires_grad:
            groups.setdefault(name.rsplit(".", 1)[0], []).append(parameter)
    return groups


def gradient_shares(groups: dict[str, list[torch.nn.Parameter]]) -> dict[str, float]:
    """Each group's share of the squared global gradient norm (before clipping; the shares sum to 1)."""
    squares = {name: sum(float(p.grad.square().sum()) for p in params if p.grad is not None)
               for name, params in groups.items()}
    total = sum(squares.values()) or 1.0
    return {name: round(value / total, 5) for name, value in squares.items()}


def adam_eps_shares(optimizer: torch.optim.Optimizer, groups: dict[str, list[torch.nn.Parameter]]) -> dict[str, float]:
    """Per group, the share of AdamW's coordinates whose denominator sqrt(v_hat) is below 10 eps, where eps
    (not the gradient) sets the step size: a sign that clipping shrank those gradients below AdamW's floor."""
    settings = optimizer.param_groups[0]
    beta2, eps = settings["betas"][1], settings["eps"]
    shares = {}
    for name, params in groups.items():
        small = count = 0
        for parameter in params:
            state = optimizer.state.get(parameter)
            if not state:
                continue
            v_hat = state["exp_avg_sq"] / (1 - beta2 ** float(state["step"]))
            small += int((v_hat.sqrt() < 10 * eps).sum())
            count += v_hat.numel()
        if count:
            shares[name] = round(small / count, 5)
    return shares


def instrumented_run(config: TrainConfig, task, states, decoder: bool) -> dict[str, Any]:
    """One training run with the package's settings, recording the loss and gradient norm of every step, each
    parameter group's share of the gradient norm, and (at the end) where AdamW's eps sets the step size."""
    torch.manual_seed(config.seed)
    torch.set_num_threads(config.threads)
    pooling = build_pooling(config, states["train"][0].dim, decoder=decoder)
    head = build_head(config, task, pooling.get_embedding_dimension())
    model = PoolingWithHead(pooling, head)
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    labels_all = task.splits["train"].labels
    rows = np.arange(len(labels_all))
    per_epoch = math.ceil(len(rows) / config.batch_size)
    warmup = int(np.ceil(config.warmup_ratio * config.epochs * per_epoch))
    clip = config.max_grad_norm if config.max_grad_norm is not None else float("inf")
    groups = parameter_groups(model)
    losses, grads, shares, epochs = [], [], [], []
    started = time.perf_counter()
    for epoch in range(config.epochs):
        order = rows[torch.randperm(len(rows), generator=torch.Generator().manual_seed(
            config.seed * 100_003 + epoch)).numpy()]
        model.train()
        for step, start in enumerate(range(0, len(order), config.batch_size)):
            index = order[start : start + config.batch_size]
            a = states["train"][0].packed(index)
            b = states["train"][1].packed(index) if states["train"][1] is not None else None
            loss = head.loss(model(a, b), torch.from_numpy(labels_all[index]))
            losses.append(round(float(loss), 5))
            if not math.isfinite(float(loss)):
                break
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            shares.append(gradient_shares(groups))
            grads.append(round(float(torch.nn.utils.clip_grad_norm_(model.parameters(), clip)), 5))
            for group in optimizer.param_groups:
                group["lr"] = config.lr * warmup_factor(epoch * per_epoch + step, warmup)
            optimizer.step()
        predictions, targets = predict_split(model, task, "validation", states["validation"], config.batch_size)
        epochs.append({"epoch": epoch + 1, "validation": round(compute_metric(run_metric(head, task), predictions,
                                                                              targets), 3),
                       "collapsed": constant_prediction(predictions, targets, head.kind) is not None,
                       "readout": readout_statistics(pooling, states["validation"][0])})
    best = max(epochs, key=lambda e: e["validation"])
    return {"lr": config.lr, "seed": config.seed, "best_validation": best["validation"],
            "collapsed": best["collapsed"], "epochs": epochs, "loss": losses, "grad_norm": grads,
            "grad_share": {name: round(float(np.median([s[name] for s in shares])), 5) for name in groups},
            "adam_eps_share": adam_eps_shares(optimizer, groups), "seconds": round(time.perf_counter() - started, 1)}


def summarise(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Per variant: collapsed runs, validation mean per lr, and the readout and gradient statistics of the
    collapsed and of the healthy runs."""
    out: dict[str, Any] = {}
    for group, label in ((lambda r: r["collapsed"], "collapsed"), (lambda r: not r["collapsed"], "healthy")):
        chosen = [r for r in runs if group(r)]
        if not chosen:
            continue
        last = [r["epochs"][-1]["readout"] for r in chosen if r["epochs"][-1]["readout"]]
        out[label] = {
            "runs": len(chosen),
            "first_step_grad_norm": round(float(np.median([r["grad_norm"][0] for r in chosen if r["grad_norm"]])), 3),
            "median_grad_norm": round(float(np.median([np.median(r["grad_norm"]) for r in chosen
                                                       if r["grad_norm"]])), 3),
            "final_loss": round(float(np.median([np.mean(r["loss"][-20:]) for r in chosen])), 4),
        }
        with_shares = [r for r in chosen if "grad_share" in r]  # runs recorded before these fields have none
        if with_shares:
            for field in ("grad_share", "adam_eps_share"):
                out[label][field] = {name: round(float(np.mean([r[field].get(name, 0.0) for r in with_shares])), 4)
                                     for name in with_shares[0][field]}
        if last:
            out[label].update({key: round(float(np.mean([s[key] for s in last])), 4) for key in last[0]})
    out["validation_by_lr"] = {
        str(lr): round(float(np.mean([r["best_validation"] for r in runs if r["lr"] == lr])), 2)
        for lr in sorted({r["lr"] for r in runs})}
    out["collapsed_runs"] = sum(r["collapsed"] for r in runs)
    out["runs"] = len(runs)
    return out


def fixes_table(paths: list[str]) -> str:
    """Markdown: per backbone and variant, collapsed runs and the mean best validation score per learning rate,
    with the readout's attention entropy and weight on the first token (last epoch, mean over runs)."""
    lines = ["| backbone | variant | collapsed runs | validation, lr 2e-4 | validation, lr 2e-3 | attention entropy "
             "| weight on the first token |", "|---|---|---|---|---|---|---|"]
    for path in paths:
        result = json.loads(Path(path).read_text())
        for variant, runs in result["runs"].items():
            by_lr = {lr: [r["best_validation"] for r in runs if r["lr"] == lr] for lr in (2e-4, 2e-3)}
            readouts = [r["epochs"][-1]["readout"] for r in runs if r["epochs"][-1]["readout"]]
            cells = [f"{np.mean(v):.1f} ± {np.std(v, ddof=1) if len(v) > 1 else 0:.1f} ({len(v)})" if v else ""
                     for v in by_lr.values()]
            lines.append(f"| {result['backbone']} | {variant} | {sum(r['collapsed'] for r in runs)} of {len(runs)} | "
                         + " | ".join(cells) + f" | {np.mean([x['entropy'] for x in readouts]):.2f} | "
                         f"{np.mean([x['weight_on_first_token'] for x in readouts]):.2f} |")
    return "\n".join(lines)


def plot_runs(paths: list[str], output: str) -> None:
    """Per backbone: the training loss and the gradient norm at every step of each variant's runs at lr 2e-3
    (collapsed runs dashed), and the readout's weight on the first token after each epoch."""
    from sentence_transformers_glot.evaluation.report import pyplot

    plt = pyplot()
    results = [json.loads(Path(path).read_text()) for path in paths]
    fig, axes = plt.subplots(len(results), 3, figsize=(15, 3.8 * len(results)), squeeze=False)
    colours = dict(zip(VARIANTS, plt.rcParams["axes.prop_cycle"].by_key()["color"]))
    for row, result in zip(axes, results):
        for variant, runs in result["runs"].items():
            for run in runs:
                style = {"color": colours[variant], "linestyle": "--" if run["collapsed"] else "-", "alpha": 0.7,
                         "linewidth": 0.8}
                label = variant if run["seed"] == 0 else None
                if run["lr"] == 2e-3:  # moving averages over 10 steps: single batches are noisy
                    smooth = np.ones(10) / 10
                    row[0].plot(np.convolve(run["loss"], smooth, mode="valid"), label=label, **style)
                    row[1].plot(np.convolve(run["grad_norm"], smooth, mode="valid"), label=label, **style)
                weights = [e["readout"]["weight_on_first_token"] for e in run["epochs"] if e["readout"]]
                row[2].plot(range(1, len(weights) + 1), weights, marker="o" if run["lr"] == 2e-3 else "x",
                            label=label if run["lr"] == 2e-3 else None, **style)
        name = result["backbone"]
        row[0].set(title=f"{name}: training loss, lr 2e-3", xlabel="step (10-step mean; dashed: collapsed)",
                   ylim=(0.3, 1.5))
        row[1].set(title=f"{name}: gradient norm before clipping", xlabel="step (10-step mean)", yscale="log")
        row[2].set(title=f"{name}: attention on the first token", xlabel="epoch (o: lr 2e-3, x: lr 2e-4)",
                   ylim=(-0.05, 1.05))
        row[0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(output, dpi=110)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    if argv is None and len(sys.argv) > 1 and sys.argv[1] == "--table":  # the README's table from result files
        print(fixes_table(sys.argv[2:]))
        return 0
    if argv is None and len(sys.argv) > 2 and sys.argv[1] == "--plot":  # --plot OUT.png RESULT.json ...
        plot_runs(sys.argv[3:], sys.argv[2])
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backbone", default="gemma3-270m")
    parser.add_argument("--task", default="fiqa-pairs")
    parser.add_argument("--layer", type=int, default=-1)
    parser.add_argument("--conv", default="sage")
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    parser.add_argument("--lrs", nargs="+", type=float, default=[2e-4, 2e-3])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--max-train", type=int, default=2000)
    parser.add_argument("--max-eval", type=int, default=1000)
    parser.add_argument("--cache-dtype", default="float16", choices=["float16", "float32"])
    parser.add_argument("--output", required=True)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)

    base = TrainConfig(backbone=args.backbone, task=args.task, layer=args.layer, max_train=args.max_train,
                       max_eval=args.max_eval, cache_dtype=args.cache_dtype)
    task = resolve_task(base, None)
    states = cache_task_states(base, task)
    decoder = is_decoder(args.backbone)
    output = Path(args.output)
    result: dict[str, Any] = json.loads(output.read_text()) if output.is_file() else {}
    result.update({
        "header": {"date": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "command": script_command(argv),
                   "torch": torch.__version__, "threads": 1},
        "backbone": args.backbone, "task": args.task, "layer": args.layer, "conv": args.conv,
        "states": state_statistics(states["train"][0]),
        "graph": graph_statistics(states["train"][0]),
    })
    result.setdefault("runs", {})
    output.parent.mkdir(parents=True, exist_ok=True)
    for variant in args.variants:
        options, training = VARIANTS[variant]
        runs = result["runs"].setdefault(variant, [])
        for lr in args.lrs:
            for seed in args.seeds:
                if any(r["lr"] == lr and r["seed"] == seed for r in runs):
                    continue  # resumable: finished runs are kept
                config = TrainConfig(**{**base.__dict__, "glot": {**options, "conv": args.conv}, "lr": lr,
                                        "seed": seed, **training})
                run = instrumented_run(config, task, states, decoder)
                runs.append(run)
                print(f"{variant} lr {lr} seed {seed}: validation {run['best_validation']:.2f}"
                      f"{' COLLAPSED' if run['collapsed'] else ''} ({run['seconds']} s)", flush=True)
                result["summary"] = {name: summarise(r) for name, r in result["runs"].items() if r}
                output.write_text(json.dumps(result, indent=1))
    result["summary"] = {name: summarise(r) for name, r in result["runs"].items() if r}
    output.write_text(json.dumps(result, indent=1))
    print(json.dumps(result["summary"], indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
