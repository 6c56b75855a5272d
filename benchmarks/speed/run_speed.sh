#!/usr/bin/env bash
# Issue 14's speed benchmarks, one after another at one torch thread (so none disturbs another), each
# writing its JSON under benchmarks/results/. About 35 minutes on the 2-core AMD EPYC machine, 20 on the
# 2-core Intel Xeon.
set -euo pipefail
export OMP_NUM_THREADS=1
python benchmarks/backend_grid.py
python benchmarks/flop_floor.py
python benchmarks/authors_module.py
python benchmarks/encode_overhead.py --sentences 1000 --repeats 3 --output benchmarks/results/encode_overhead.json
