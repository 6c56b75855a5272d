"""MTEB on saved models: local ``glot-`` tasks from the offline data (:mod:`.tasks`) and the runner (:mod:`.run`)."""

from sentence_transformers_glot.evaluation.mteb.run import format_table, run_mteb
from sentence_transformers_glot.evaluation.mteb.tasks import get_local_task, local_task_names, resolve_tasks

__all__ = ["format_table", "get_local_task", "local_task_names", "resolve_tasks", "run_mteb"]
