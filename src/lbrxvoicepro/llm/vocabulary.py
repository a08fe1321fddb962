"""A GGUF whose vocabulary keeps only what Polish and English text is written in.

Every generated token goes through the model's output layer, one row per vocabulary entry.
Gemma 3 270M has 262,144 of them (a 262,144 x 640 layer: ~170M of its ~270M weights, 178 MB
in Q8_0), so on two cores that layer, not the transformer, sets the pace: ~15 ms per token.
Most entries are other scripts (CJK, Cyrillic, Arabic, ...); dropping them leaves ~153,000 and
~10 ms per token (BENCHMARKS.md).

Nothing changes for text written in the kept characters. llama.cpp's SentencePiece tokenizer
only ever merges neighbouring pieces of the text, and every piece of such text is itself made of
kept characters, so it is tokenized exactly as before; the kept rows of the output layer are
untouched, so their logits are the same, and greedy answers are the same token for token as
long as the model's choice is a kept token. Text in other characters still reads (single Latin
letters and the byte tokens stay), only in smaller pieces.
"""

from __future__ import annotations

import logging
import os
import string
import unicodedata
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from gguf import GGUFReader

log = logging.getLogger(__name__)

SUFFIX = ".pl-en.gguf"
_LETTERS = "aąbcćdeęfghijklłmnńoóprsśtuwyzźżqvx"
KEPT_CHARACTERS = frozenset(
    _LETTERS
    + _LETTERS.upper()
    + string.digits
    + string.punctuation
    + " \t\n\r"
    + "▁"  # SentencePiece's word start
    + "–—„”“’‘…«»€°§•·"
)
_NORMAL = 1
"""``tokenizer.ggml.token_type`` of an ordinary token; control, byte and user-defined tokens
(turn markers, byte fallback) are always kept."""
_VOCABULARY_TENSORS = ("token_embd.weight", "output.weight")


def trimmed(source: Path, folder: Path) -> Path:
    """``source`` with its vocabulary trimmed to Polish and English text, written once into
    ``folder`` (again when ``source`` is newer); ``source`` itself when its tokenizer is not
    SentencePiece (the reasoning above holds only for it) or nothing would be dropped."""
    target = folder / (source.name.removesuffix(".gguf") + SUFFIX)
    if target.exists() and target.stat().st_mtime >= source.stat().st_mtime:
        return target
    from gguf import GGUFReader

    reader = GGUFReader(source)
    model = reader.fields["tokenizer.ggml.model"].contents()
    if model != "llama":
        log.info("%s: a %r tokenizer, its vocabulary is kept whole", source.name, model)
        return source
    tokens = reader.fields["tokenizer.ggml.tokens"].contents()
    types = reader.fields["tokenizer.ggml.token_type"].contents()
    kept = np.array([i for i, (t, k) in enumerate(zip(tokens, types, strict=True)) if _kept(t, k)])
    if len(kept) == len(tokens):
        return source
    folder.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f"{target.name}.{os.getpid()}.part")
    try:
        _write(reader, kept, len(tokens), partial)
        os.replace(partial, target)  # readers never see a half-written file
    finally:
        partial.unlink(missing_ok=True)
    log.info("%s: vocabulary %d -> %d tokens in %s", source.name, len(tokens), len(kept), target)
    return target


def _kept(token: str, kind: int) -> bool:
    if kind != _NORMAL or all(char in KEPT_CHARACTERS for char in token):
        return True
    return len(token) == 1 and "LATIN" in unicodedata.name(token, "")


def _write(reader: GGUFReader, kept: np.ndarray, count: int, path: Path) -> None:
    """The model of ``reader`` with only the ``kept`` of its ``count`` tokens, into ``path``."""
    from gguf import GGUFValueType, GGUFWriter

    new_id = {int(old): new for new, old in enumerate(kept)}
    writer = GGUFWriter(path, reader.fields["general.architecture"].contents())
    for name, field in reader.fields.items():
        if name.startswith("GGUF.") or name == "general.architecture":
            continue  # written by the writer itself
        value = field.contents()
        if name in ("tokenizer.ggml.tokens", "tokenizer.ggml.scores", "tokenizer.ggml.token_type"):
            value = [value[i] for i in kept]
        elif name.startswith("tokenizer.ggml.") and name.endswith("_token_id"):
            if value not in new_id:
                continue
            value = new_id[value]
        elif name.endswith(".vocab_size"):
            value = len(kept)
        kind = field.types[0]
        writer.add_key_value(
            name, value, kind, sub_type=field.types[-1] if kind == GGUFValueType.ARRAY else None
        )
    for tensor in reader.tensors:
        data = np.asarray(tensor.data)
        if tensor.name in _VOCABULARY_TENSORS and data.shape[0] == count:
            data = data[kept]
        writer.add_tensor(tensor.name, data, raw_shape=data.shape, raw_dtype=tensor.tensor_type)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
