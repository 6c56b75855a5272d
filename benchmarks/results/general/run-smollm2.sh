#!/usr/bin/env bash
# Issue 34, a first decoder data point: a multi-task GLOT on SmolLM2-135M (one shared pooling, a head for each of
# five tasks, from the hidden-state caches of the decoder benchmarks: 2,000 training / 1,000 evaluation examples
# each) against SmolLM2's mean pooling and last token on every local MTEB task (first 300 rows of each).
set -euo pipefail
export OMP_NUM_THREADS=1 HF_HUB_OFFLINE=1
cd "$(dirname "$0")/../../.."
python -m sentence_transformers_glot train --backbone smollm2-135m --task movie-polarity \
  --also-tasks tweet-sentiment subjectivity sentiment-similarity fiqa-pairs --sampling balanced \
  --max-train 2000 --max-eval 1000 --lr 2e-3 --threads 1 --runs benchmarks/results/general/runs \
  --json benchmarks/results/general/multitask-smollm2.json
model=$(python -c "import json; print(json.load(open('benchmarks/results/general/multitask-smollm2.json'))[0]['model_dir'])")
python -m benchmarks.quality.general_embeddings --backbone smollm2-135m --models "glot-multitask-5=$model" \
  --limit 300 --output benchmarks/results/general/smollm2-limit300.json
