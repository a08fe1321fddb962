"""Sentence embeddings on ONNX Runtime, from any sentence-transformers model directory.

The model is exported once to ONNX (mean pooling and normalisation inside the graph) and, by
default, quantised to int8. Exports are cached under the cache directory, keyed by the model's
files, so a changed model is exported again.

Throughput on a small CPU comes from not computing padding and from keeping every core on its own
batch. BERT encoders (all-MiniLM-L6-v2 among them) are exported ``flat`` (see
``lbrxvoicepro.kb.export``): a batch of texts of any lengths is one inference over its real
tokens, short texts packed several to an attention row. Other models are exported ``padded``
and their texts grouped by token length, each group padded only to its own longest text. Each
inference is single-threaded, so concurrent batches run side by side, one per core (see
``bench/rag.py`` and BENCHMARKS.md).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Literal, Protocol

import numpy as np

from lbrxvoicepro.errors import BackendNotInstalled, ModelLoadError, ModelNotFound

Precision = Literal["int8", "fp32"]
Layout = Literal["flat", "padded"]


class Embedder(Protocol):
    """Texts to unit-length vectors (rows), one model for documents and queries."""

    @property
    def name(self) -> str: ...

    @property
    def dimensions(self) -> int: ...

    def embed(self, texts: Sequence[str]) -> np.ndarray: ...


class OnnxEmbedder:
    """A sentence-transformers model run by ONNX Runtime, batch in, float32 rows out."""

    def __init__(
        self, model_dir: Path, cache_dir: Path, precision: Precision = "int8", threads: int = 0
    ) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        self.model_dir = Path(model_dir)
        self.precision = precision
        onnx_path = export_onnx(self.model_dir, Path(cache_dir), precision)
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self._workers = ThreadPoolExecutor(
            threads or (os.cpu_count() or 1), thread_name_prefix="embedder"
        )
        try:
            # Separate Add + LayerNormalization run ~10% faster than ONNX Runtime's fused
            # SkipLayerNormalization on the quantised graph (measured on short queries).
            self._session = ort.InferenceSession(
                str(onnx_path),
                options,
                providers=["CPUExecutionProvider"],
                disabled_optimizers=["SkipLayerNormFusion"],
            )
        except Exception as error:
            raise ModelLoadError(
                f"{onnx_path}: cannot load the embedding model: {error}"
            ) from error
        self._tokenizer = Tokenizer.from_file(str(self.model_dir / "tokenizer.json"))
        self._tokenizer.enable_truncation(_max_length(self.model_dir))
        self._tokenizer.no_padding()
        self._pad_id = _pad_id(self.model_dir)
        self._dimensions = int(self._session.get_outputs()[0].shape[-1])
        inputs = {graph_input.name for graph_input in self._session.get_inputs()}
        self.layout: Layout = "flat" if "position_ids" in inputs else "padded"

    @property
    def name(self) -> str:
        return f"{self.model_dir.name}:{self.precision}"

    @property
    def dimensions(self) -> int:
        return self._dimensions

    def embed(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        """Unit vectors, one row per text. Up to ``batch_size`` texts run on the calling thread
        (concurrent callers, like ``QueryBatcher``'s workers, bring their own parallelism);
        more are spread over one worker per core."""
        vectors = np.zeros((len(texts), self._dimensions), dtype=np.float32)
        if not texts:
            return vectors
        spread = len(texts) > batch_size
        # A few texts are tokenized on this thread: tokenizers' thread pool spends ~0.1 ms of
        # other cores' time per query on them (measured), time the other search worker needs.
        encode = self._tokenizer.encode
        encodings = self._tokenizer.encode_batch(list(texts)) if spread else map(encode, texts)
        tokens = [encoding.ids for encoding in encodings]
        lengths = [len(ids) for ids in tokens]
        if self.layout == "flat":
            by_length = sorted(range(len(tokens)), key=lengths.__getitem__)
            groups = [by_length[at : at + batch_size] for at in range(0, len(tokens), batch_size)]
            run = self._run_flat
        else:
            groups = length_groups(lengths, batch_size)
            run = self._run_padded
        batches = [[tokens[i] for i in group] for group in groups]
        rows = self._workers.map(run, batches) if spread else map(run, batches)
        for group, group_rows in zip(groups, rows, strict=True):
            vectors[group] = group_rows
        return vectors

    def _run_flat(self, batch: list[list[int]]) -> np.ndarray:
        (rows,) = self._session.run(None, flat_inputs(batch))
        return np.asarray(rows, dtype=np.float32)

    def _run_padded(self, batch: list[list[int]]) -> np.ndarray:
        longest = max(len(ids) for ids in batch)
        ids = np.full((len(batch), longest), self._pad_id, dtype=np.int64)
        mask = np.zeros_like(ids)
        for row, token_ids in enumerate(batch):
            ids[row, : len(token_ids)] = token_ids
            mask[row, : len(token_ids)] = 1
        (rows,) = self._session.run(
            None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        )
        return np.asarray(rows, dtype=np.float32)


def flat_inputs(batch: Sequence[Sequence[int]]) -> dict[str, np.ndarray]:
    """The inputs of a ``flat`` export for a batch of token id lists.

    The tokens run as one sequence (``input_ids``, ``position_ids`` restarting at 0 for each
    text). For attention they are scattered into rows as wide as the longest text, shorter texts
    packed several to a row (``row_slots``); ``slot_tokens`` gives each row slot's token (empty
    slots repeat token 0), ``token_slots`` each token's slot, and ``attention_bias`` keeps every
    token's attention inside its own text. ``pooling`` averages each text's tokens.
    """
    lengths = np.array([len(ids) for ids in batch])
    width = int(lengths.max())
    starts = np.cumsum(lengths) - lengths
    positions = np.arange(lengths.sum()) - np.repeat(starts, lengths)
    first_slots, rows = row_slots(lengths, width)
    slots = np.repeat(first_slots, lengths) + positions
    slot_tokens = np.zeros(rows * width, dtype=np.int64)
    slot_tokens[slots] = np.arange(len(slots))
    owner = np.full(rows * width, -1, dtype=np.int64)
    owner[slots] = np.repeat(np.arange(len(batch)), lengths)
    by_row = owner.reshape(rows, width)
    same_text = by_row[:, :, None] == by_row[:, None, :]
    bias = np.where(same_text, 0.0, np.finfo(np.float32).min).astype(np.float32)
    pooling = np.zeros((len(batch), len(slots)), dtype=np.float32)
    pooling[np.repeat(np.arange(len(batch)), lengths), np.arange(len(slots))] = np.repeat(
        1.0 / lengths, lengths
    )
    return {
        "input_ids": np.concatenate(batch).astype(np.int64),
        "position_ids": positions.astype(np.int64),
        "slot_tokens": slot_tokens,
        "token_slots": slots.astype(np.int64),
        "attention_bias": bias[:, None],
        "pooling": pooling,
    }


def row_slots(lengths: np.ndarray, width: int) -> tuple[np.ndarray, int]:
    """The first slot (row * width + column) of each text packed into rows of ``width`` slots,
    longest first into the first row with room (first-fit decreasing), and the rows used."""
    used: list[int] = []
    first = np.empty(len(lengths), dtype=np.int64)
    for text in np.argsort(-lengths, kind="stable"):
        length = int(lengths[text])
        row = next((r for r, taken in enumerate(used) if taken + length <= width), len(used))
        if row == len(used):
            used.append(0)
        first[text] = row * width + used[row]
        used[row] += length
    return first, len(used)


def export_layout(model_dir: Path) -> Layout:
    """``flat`` for BERT encoders with absolute position embeddings, ``padded`` for the rest."""
    config = json.loads((model_dir / "config.json").read_text())
    absolute = config.get("position_embedding_type", "absolute") == "absolute"
    return "flat" if config.get("model_type") == "bert" and absolute else "padded"


def length_groups(lengths: Sequence[int], max_size: int, slack: float = 1.1) -> list[list[int]]:
    """Indices grouped by similar length, so that padding each group to its longest member adds
    at most ``slack`` times its real tokens; no group holds more than ``max_size``."""
    groups: list[list[int]] = []
    group: list[int] = []
    tokens = 0
    for index in sorted(range(len(lengths)), key=lengths.__getitem__):
        length = lengths[index]
        if group and (
            len(group) >= max_size or (len(group) + 1) * length > slack * (tokens + length)
        ):
            groups.append(group)
            group, tokens = [], 0
        group.append(index)
        tokens += length
    if group:
        groups.append(group)
    return groups


def export_onnx(model_dir: Path, cache_dir: Path, precision: Precision) -> Path:
    """The cached ONNX export of ``model_dir`` (made once, under a lock, atomically, by a child
    process: see ``lbrxvoicepro.kb.export``)."""
    if not (model_dir / "config.json").is_file() or not (model_dir / "tokenizer.json").is_file():
        raise ModelNotFound(
            f"{model_dir}: not a sentence-transformers model directory "
            "(config.json and tokenizer.json are needed)"
        )
    layout = export_layout(model_dir)
    target_dir = cache_dir / "embeddings" / f"{model_dir.name}-{_fingerprint(model_dir)}"
    target = target_dir / f"model-{precision}-{layout}.onnx"
    if target.is_file():
        return target
    target_dir.mkdir(parents=True, exist_ok=True)
    with open(target_dir / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if target.is_file():
            return target
        staging = target_dir / f".staging-{os.getpid()}"
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir()
        try:
            _export_in_child(model_dir, staging / target.name, precision, layout)
            os.replace(staging / target.name, target)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return target


def _export_in_child(
    model_dir: Path, destination: Path, precision: Precision, layout: Layout
) -> None:
    from lbrxvoicepro.kb.export import MISSING_BACKEND

    command = [sys.executable, "-m", "lbrxvoicepro.kb.export", str(model_dir), str(destination)]
    done = subprocess.run([*command, precision, layout], capture_output=True, text=True)
    if done.returncode == MISSING_BACKEND:
        raise BackendNotInstalled.extra("embeddings export", "kb")
    if done.returncode != 0:
        reason = (done.stderr.strip().splitlines() or [f"exit status {done.returncode}"])[-1]
        raise ModelLoadError(f"{model_dir}: cannot export the embedding model to ONNX: {reason}")


def _fingerprint(model_dir: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(model_dir.glob("*")):
        if path.is_file():
            stat = path.stat()
            digest.update(f"{path.name}:{stat.st_size}:{int(stat.st_mtime)}".encode())
    return digest.hexdigest()[:12]


def _max_length(model_dir: Path) -> int:
    config = model_dir / "sentence_bert_config.json"
    if config.is_file():
        return int(json.loads(config.read_text()).get("max_seq_length", 256))
    return 256


def _pad_id(model_dir: Path) -> int:
    config = json.loads((model_dir / "config.json").read_text())
    return int(config.get("pad_token_id") or 0)
