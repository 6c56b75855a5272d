"""A run's inputs: the task cut to its sample sizes."""

from __future__ import annotations

from helpers import config, toy_task

from sentence_transformers_glot.training.inputs import resolve_task


def test_the_task_is_cut_to_max_train_and_max_eval():
    task = toy_task(n=120)
    cut = resolve_task(config("minilm", max_train=10, max_eval=5), task)
    assert len(cut.splits["train"].texts) == 10 and len(cut.splits["test"].texts) == 5
    assert resolve_task(config("minilm"), task) is task or len(resolve_task(config("minilm"), task).splits["train"]
                                                                .texts) == len(task.splits["train"].texts)
