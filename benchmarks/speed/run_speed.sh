#!/usr/bin/env bash
# Issue 14's speed benchmarks, one after another at one torch thread (so none disturbs another), each
# writing its JSON under benchmarks/results/speed/. About 35 minutes on the 2-core AMD EPYC machine, 20 on the
# 2-core Intel Xeon.
set -euo pipefail
cd "$(dirname "$0")/../.."  # the repository root: the scripts run as modules of the benchmarks package
export OMP_NUM_THREADS=1
python -m benchmarks.speed.backend_grid
python -m benchmarks.speed.flop_floor
python -m benchmarks.speed.authors_module
python -m benchmarks.speed.encode_overhead --sentences 1000 --repeats 3 --output benchmarks/results/speed/encode_overhead.json
