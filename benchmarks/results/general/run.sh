#!/usr/bin/env bash
# Issue 34, first general-embedding data point on MiniLM: a self-supervised GLOT (two spans of a movie-polarity
# sentence as a positive pair) against MiniLM's own mean and [CLS] pooling on every local MTEB task (first 1,000 rows).
set -euo pipefail
export OMP_NUM_THREADS=1 HF_HUB_OFFLINE=1
cd "$(dirname "$0")/../../.."
py=python
$py -m sentence_transformers_glot train --backbone minilm --task spans:movie-polarity --threshold 0.3 --lr 2e-3 \
  --threads 1 --runs benchmarks/results/general/runs --json benchmarks/results/general/spans.json
model=$($py -c "import json; print(json.load(open('benchmarks/results/general/spans.json'))[0]['model_dir'])")
$py -m benchmarks.quality.general_embeddings --backbone minilm --models "glot-spans-movie-polarity=$model" \
  --limit 1000 --output benchmarks/results/general/minilm-limit1000.json
