#!/usr/bin/env bash
# Issue 33, "claims that survive": every cell where GLOT's tuned mean led the best baseline by more than one point
# at 3 seeds, re-run with 10 seeds (0-9) under the same tuned protocol (lr 2e-4 / 2e-3 chosen on validation).
# Each folder started from a copy of the 3-seed suite.json it extends (benchmarks/results/<study>/<source>/suite.json),
# so seeds 0-2 are read back, not trained again. Resumable: run it again after an interruption.
# Usage: bash benchmarks/results/seeds10/run.sh minilm | decoders   (one torch thread each; run both side by side)
set -euo pipefail
seeds="0 1 2 3 4 5 6 7 8 9"
case "${1:-}" in
  minilm)  # MiniLM relational cells (source: pair-heads/minilm-relational), in the order of GLOT's lead
    glot benchmark --backbones minilm --tasks acceptability sentiment-similarity bigram-shift coordination-inversion \
      --methods glot glot-gat adapool mean cls --seeds $seeds --max-train 4000 --lrs 2e-4 2e-3 \
      --output benchmarks/results/seeds10/minilm-relational ;;
  decoders)  # decoder cells with a lead > 1 point, largest leads first (2,000 train / 1,000 validation / 1,000 test;
    # sources: decoders/decoders-{gemma3,smollm2}-inputnorm, decoders/decoders-gemma3-inputnorm-L9,
    # decoders/decoders-smollm2-inputnorm-L15)
    glot benchmark --backbones gemma3-270m --tasks coordination-inversion bigram-shift --layers 9 --cache-dtype float32 \
      --methods glot glot-gat adapool mean last max cls --seeds $seeds --max-train 2000 --max-eval 1000 \
      --lrs 2e-4 2e-3 --output benchmarks/results/seeds10/decoders-gemma3-L9
    glot benchmark --backbones smollm2-135m --tasks acceptability subjectivity movie-polarity movie-rating \
      tweet-sentiment --methods glot glot-gat adapool mean last max cls --seeds $seeds --max-train 2000 \
      --max-eval 1000 --lrs 2e-4 2e-3 --output benchmarks/results/seeds10/decoders-smollm2
    # (subjectivity also ran on its own, beside this, into decoders-gemma3-subjectivity: the same cells)
    glot benchmark --backbones gemma3-270m --tasks coordination-inversion fiqa-pairs subjectivity \
      --methods glot glot-gat adapool mean last max cls --seeds $seeds --max-train 2000 --max-eval 1000 \
      --lrs 2e-4 2e-3 --output benchmarks/results/seeds10/decoders-gemma3
    glot benchmark --backbones smollm2-135m --tasks acceptability coordination-inversion --layers 15 \
      --cache-dtype float32 --methods glot glot-gat adapool mean last max cls --seeds $seeds --max-train 2000 \
      --max-eval 1000 --lrs 2e-4 2e-3 --output benchmarks/results/seeds10/decoders-smollm2-L15 ;;
  *) echo "usage: $0 minilm|decoders" >&2; exit 2 ;;
esac
