"""The repository's benchmark scripts, by purpose (see ``benchmarks/README.md``); run them as modules from the
repository root, e.g. ``python -m benchmarks.speed.flop_floor``. Not part of the installed package."""
