"""Evaluation tooling: the benchmark grid, the stress test, their reports and plots, and MTEB.

- :mod:`.grid`: one runner for grid cells (resume, read back) and the mean ± std over seeds.
- :mod:`.benchmark`: ``glot benchmark`` (backbones x tasks x methods x layers x learning rates x seeds).
- :mod:`.summary`: learning-rate selection on validation and GLOT's margins over the best baseline.
- :mod:`.suite_report`: the benchmark's tables and plots.
- :mod:`.stress`: ``glot stress-test`` on the distractor task of :mod:`sentence_transformers_glot.data.distractors`;
  :mod:`.stress_report`: its tables, plot and result files.
- :mod:`.report`: run headers, Markdown tables and the lazy matplotlib import they share.
- :mod:`.mteb`: MTEB on saved models, with local tasks built from the offline data.
"""
