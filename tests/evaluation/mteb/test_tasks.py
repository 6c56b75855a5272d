"""The local MTEB tasks: every declared task resolves offline with its declared kind and main score."""

from __future__ import annotations

import pytest

pytest.importorskip("mteb")

from sentence_transformers_glot.evaluation.mteb.tasks import LOCAL_TASKS, get_local_task, resolve_tasks  # noqa: E402

KINDS = {"classification": "Classification", "clustering": "Clustering", "retrieval": "Retrieval",
         "pair-classification": "PairClassification", "sts": "STS"}


@pytest.mark.parametrize("name", list(LOCAL_TASKS))
def test_every_local_task_is_declared_once_and_resolves_without_the_hub(name):
    spec = LOCAL_TASKS[name]
    task = get_local_task(name)
    assert task.metadata.name == name and task.metadata.main_score == spec.main_score
    assert task.metadata.type == KINDS[spec.kind]
    resolved = resolve_tasks([name])[0]
    assert type(resolved).__name__ == type(task).__name__ and resolved.metadata.name == name
