"""Do the probing and pair tasks give their labels away without word order? Sizes and leak baselines.

For every task of ``--tasks`` (default: the offline probing and pair classification tasks) this prints the
split sizes and the test scores of readers that ignore word order, fit on the train split (see
:func:`sentence_transformers_glot.data.probing.leak_baselines`): a word-count threshold, a character-count
threshold (accuracy), and a bag-of-words logistic regression (the task's metric). On a sound probing task
all of them stay near chance (accuracy 50, MCC 0).

Reproduce (about a minute)::

    python -m benchmarks.quality.task_leaks --output benchmarks/results/relational/task_leaks.json
"""

from __future__ import annotations

import argparse

from sentence_transformers_glot.data import (
    PROBING_TASKS,
    SPLITS,
    load_task,
)
from sentence_transformers_glot.data.probing import leak_baselines
from sentence_transformers_glot.evaluation.report import (
    script_command,
    write_json,
)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", nargs="+", default=[*PROBING_TASKS, "fiqa-pairs"])
    parser.add_argument("--output", default="benchmarks/results/relational/task_leaks.json")
    args = parser.parse_args(argv)
    rows = []
    print("| task | train / validation / test | metric | length (words), acc | length (chars), acc | "
          "bag of words |\n|---|---|---|---|---|---|")
    for name in args.tasks:
        task = load_task(name)
        found = leak_baselines(task)
        sizes = [len(task.splits[s]) for s in SPLITS]
        rows.append({"task": name, "sizes": sizes, "metric": task.metric, **found})
        print(f"| {name} | {' / '.join(f'{n:,}' for n in sizes)} | {task.metric} | {found['length_words']:.1f} | "
              f"{found['length_chars']:.1f} | {found['bag_of_words']:.1f} |")
    write_json(args.output, script_command(argv), tasks=rows)


if __name__ == "__main__":
    main()
