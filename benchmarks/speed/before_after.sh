#!/usr/bin/env bash
# The package's default path before and after a change, in one run on one machine: the FLOP-floor benchmark and
# MiniLM's encode overhead, first with the package of commit BEFORE (checked out in a temporary worktree; the
# benchmark scripts are this checkout's), then with this checkout, at one torch thread. About 15 minutes on the
# 2-core AMD EPYC machine.
#
#   benchmarks/speed/before_after.sh BEFORE NAME
#
# writes benchmarks/results/speed/flop_floor_NAME_{before,after}.json and encode_overhead_NAME_{before,after}.json.
# The scripts run by their path (not with -m), so that PYTHONPATH decides which package they import.
set -euo pipefail
cd "$(dirname "$0")/../.."
before=$1
name=$2
export OMP_NUM_THREADS=1
work=$(mktemp -d)
git worktree add -q --detach "$work/tree" "$before"
trap 'git worktree remove --force "$work/tree"; rm -rf "$work"' EXIT
mkdir "$work/pkg"
ln -s "$work/tree/sentence_transformers_glot" "$work/pkg/sentence_transformers_glot"
for side in before after; do
  if [ "$side" = before ]; then path="$work/pkg:."; else path="."; fi
  echo "== $side: $(PYTHONPATH=$path python -P -c 'import sentence_transformers_glot as p; print(p.__file__)')"
  PYTHONPATH=$path python benchmarks/speed/flop_floor.py --output "benchmarks/results/speed/flop_floor_${name}_$side.json"
  PYTHONPATH=$path python benchmarks/speed/encode_overhead.py --backbones minilm --sentences 1000 --repeats 3 \
    --output "benchmarks/results/speed/encode_overhead_${name}_$side.json"
done
