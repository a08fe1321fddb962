"""The ONNX exports against the transformer they come from, in both layouts."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from lbrxvoicepro.kb.embeddings import OnnxEmbedder, flat_inputs, row_slots
from lbrxvoicepro.runtime import ModelManager

pytestmark = pytest.mark.engines("embedder")

TEXTS = [
    "Kraków leży nad Wisłą.",
    "Gdzie jest zamek królewski w Krakowie?",
    "The castle stands on a hill above the river, and tourists climb it every day.",
    "a",
    "Ile lat ma najstarszy most w Gdańsku i kto go zbudował w czternastym wieku?",
    "Sopot",
    "Pociąg z Warszawy do Zakopanego jedzie przez Kraków, a w sezonie także nocą.",
]


def mean_pooled(model_dir: Path, texts: list[str]) -> np.ndarray:
    """The sentence-transformers recipe (transformer, mean pooling, unit length) text by text,
    with no padding anywhere: the reference an export must reproduce."""
    import torch
    from tokenizers import Tokenizer
    from transformers import AutoModel

    model = AutoModel.from_pretrained(str(model_dir)).eval()
    tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    tokenizer.no_padding()
    rows = []
    with torch.inference_mode():
        for text in texts:
            ids = torch.tensor([tokenizer.encode(text).ids])
            hidden = model(input_ids=ids).last_hidden_state[0].mean(0)
            rows.append(torch.nn.functional.normalize(hidden, dim=0).numpy())
    return np.stack(rows)


def embeddings_in_every_company(embedder: OnnxEmbedder, texts: list[str]) -> list[np.ndarray]:
    return [
        embedder.embed(texts),
        np.vstack([embedder.embed([text]) for text in texts]),
        embedder.embed(texts * 9, batch_size=4)[: len(texts)],  # spread over the workers
    ]


def test_flat_bert_export_reproduces_the_model_in_any_company(
    models: ModelManager, cache_dir: Path
) -> None:
    model_dir = models.catalog.resolve("all-MiniLM-L6-v2", "embedding")
    embedder = OnnxEmbedder(model_dir, cache_dir, "fp32")
    assert embedder.layout == "flat"
    expected = mean_pooled(model_dir, TEXTS)
    for vectors in embeddings_in_every_company(embedder, TEXTS):
        assert np.abs(vectors - expected).max() < 1e-5


def test_int8_flat_export_stays_near_the_model(models: ModelManager, cache_dir: Path) -> None:
    model_dir = models.catalog.resolve("all-MiniLM-L6-v2", "embedding")
    embedder = OnnxEmbedder(model_dir, cache_dir, "int8")
    expected = mean_pooled(model_dir, TEXTS)
    for vectors in embeddings_in_every_company(embedder, TEXTS):
        assert np.all(np.sum(vectors * expected, axis=1) > 0.9)


def test_other_models_are_exported_padded_and_reproduce_the_model(
    models: ModelManager, tmp_path: Path
) -> None:
    """A tiny random XLM-RoBERTa (positions counted past the padding id, so no flat layout)."""
    from transformers import XLMRobertaConfig, XLMRobertaModel

    minilm = models.catalog.resolve("all-MiniLM-L6-v2", "embedding")
    model_dir = tmp_path / "tiny-xlmr"
    config = XLMRobertaConfig(
        vocab_size=30522,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        pad_token_id=0,
    )
    XLMRobertaModel(config).save_pretrained(model_dir)
    shutil.copy(minilm / "tokenizer.json", model_dir)
    embedder = OnnxEmbedder(model_dir, tmp_path / "cache", "fp32")
    assert embedder.layout == "padded"
    expected = mean_pooled(model_dir, TEXTS)
    for vectors in embeddings_in_every_company(embedder, TEXTS):
        assert np.abs(vectors - expected).max() < 1e-5


def test_rows_hold_every_token_once_and_attention_stays_inside_each_text() -> None:
    lengths = [9, 3, 4, 2, 9, 1, 5, 6]
    batch = [list(range(100 * n, 100 * n + length)) for n, length in enumerate(lengths)]
    inputs = flat_inputs(batch)
    width = max(lengths)
    _, rows = row_slots(np.array(lengths), width)
    assert rows == 5  # 9 | 9 | 6+3 | 5+4 | 2+1
    slots = inputs["token_slots"]
    assert sorted(slots) == sorted(set(slots)) and slots.max() < rows * width
    assert np.array_equal(inputs["slot_tokens"][slots], np.arange(sum(lengths)))
    owner = np.repeat(np.arange(len(lengths)), lengths)
    bias = inputs["attention_bias"][:, 0].reshape(rows * width, width)
    for token, slot in enumerate(slots):
        row = slot // width
        allowed = {int(s) % width for s, o in zip(slots, owner, strict=True) if o == owner[token]}
        assert all(
            s // width == row for s, o in zip(slots, owner, strict=True) if o == owner[token]
        )
        assert {int(c) for c in np.flatnonzero(bias[slot] == 0)} == allowed
    assert np.allclose(inputs["pooling"].sum(axis=1), 1.0)
    assert list(inputs["position_ids"][:9]) == list(range(9))


@pytest.mark.parametrize("lengths", [[1], [7, 7, 7], [30, 1, 1, 1, 29]])
def test_packing_never_overfills_a_row(lengths: list[int]) -> None:
    width = max(lengths)
    first, rows = row_slots(np.array(lengths), width)
    used = np.zeros(rows, dtype=int)
    for start, length in zip(first, lengths, strict=True):
        assert start % width + length <= width
        used[start // width] += length
    assert used.sum() == sum(lengths)
