"""Top-k selection, int8 dense scoring, length groups and batched embedding against plain
references."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from lbrxvoicepro.errors import ModelLoadError
from lbrxvoicepro.kb.embeddings import Embedder, OnnxEmbedder, length_groups
from lbrxvoicepro.kb.ranking import DenseIndex, top_k
from lbrxvoicepro.runtime import ModelManager

pytestmark = pytest.mark.engines("embedder")


def unit_rows(rows: int, seed: int) -> np.ndarray:
    vectors = np.random.default_rng(seed).standard_normal((rows, 384)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def test_top_k_matches_a_full_sort_and_breaks_ties_by_lower_column() -> None:
    scores = np.random.default_rng(0).integers(0, 20, (7, 500)).astype(np.float32)
    values, columns = top_k(scores, 30)
    expected = np.argsort(-scores, axis=1, kind="stable")[:, :30]
    assert np.array_equal(columns, expected)
    assert np.array_equal(values, np.take_along_axis(scores, expected, axis=1))


def test_top_k_of_nothing_is_empty() -> None:
    assert top_k(np.zeros((3, 0), dtype=np.float32), 5)[1].shape == (3, 0)
    assert top_k(np.ones((2, 4), dtype=np.float32), 10)[1].shape == (2, 4)
    assert DenseIndex(np.zeros((0, 384))).top_k(unit_rows(2, 1), 5)[1].shape == (2, 0)
    assert DenseIndex(unit_rows(3, 1)).top_k(unit_rows(2, 1), 5)[1].shape == (2, 3)


def test_int8_dense_scores_stay_close_to_float_cosine() -> None:
    chunks, queries = unit_rows(3000, 2), unit_rows(16, 3)
    # Real retrieval has a clear best match: plant each query's twin among the chunks.
    chunks[:16] = queries + 0.3 * unit_rows(16, 4)
    chunks /= np.linalg.norm(chunks, axis=1, keepdims=True)
    exact = queries @ chunks.T
    values, columns = DenseIndex(chunks).top_k(queries, 20)
    assert np.abs(values - np.take_along_axis(exact, columns, axis=1)).max() < 0.01
    assert list(columns[:, 0]) == list(range(16))
    overlap = [
        len(set(row) & set(np.argsort(-e)[:20])) for row, e in zip(columns, exact, strict=True)
    ]
    assert min(overlap) >= 15


@pytest.mark.parametrize("max_size", [1, 3, 64])
def test_length_groups_cover_every_text_once_with_little_padding(max_size: int) -> None:
    lengths = list(np.random.default_rng(5).integers(3, 40, 200))
    groups = length_groups(lengths, max_size)
    assert sorted(i for group in groups for i in group) == list(range(200))
    for group in groups:
        assert len(group) <= max_size
        real = sum(lengths[i] for i in group)
        assert len(group) * max(lengths[i] for i in group) <= 1.1 * real + 1e-9


def test_grouped_embeddings_do_not_depend_on_the_company_a_text_keeps(embedder: Embedder) -> None:
    texts = [f"Zdanie numer {n}: " + "słowo " * (n % 17) for n in range(150)]
    alone = np.vstack([embedder.embed([text]) for text in texts[:20]])
    in_a_batch = embedder.embed(texts[:20])
    spread_over_workers = embedder.embed(texts)[:20]
    # int8 activations are scaled per inference, so company moves a vector by about 1%.
    for vectors in (in_a_batch, spread_over_workers):
        assert np.all(np.sum(alone * vectors, axis=1) > 0.98)
        assert np.allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-4)


def test_bm25_scores_equal_bm25s_own_scoring() -> None:
    import bm25s

    from lbrxvoicepro.kb.store import _BM25

    rng = np.random.default_rng(6)
    vocabulary = [f"t{n}" for n in range(60)]
    documents = [list(rng.choice(vocabulary, rng.integers(1, 30))) for _ in range(300)]
    queries = [[*rng.choice(vocabulary, 4), "unseen"] for _ in range(20)] + [["unseen"]]
    reference = bm25s.BM25()
    reference.index(documents, show_progress=False)
    expected = [reference.get_scores(sorted(set(q) - {"unseen"})) for q in queries[:-1]]
    expected.append(np.zeros(len(documents)))
    assert np.allclose(_BM25(documents).score(queries), expected, atol=1e-5)


def test_a_model_that_cannot_be_exported_fails_clearly_and_leaves_no_export(
    models: ModelManager, tmp_path: Path
) -> None:
    broken = tmp_path / "broken-minilm"
    shutil.copytree(models.catalog.resolve("all-MiniLM-L6-v2", "embedding"), broken)
    (broken / "model.safetensors").write_bytes(b"not a safetensors file")
    with pytest.raises(
        ModelLoadError, match=r"broken-minilm: cannot export the embedding model to ONNX: \w*Error"
    ):
        OnnxEmbedder(broken, tmp_path / "cache")
    (export_dir,) = (tmp_path / "cache" / "embeddings").iterdir()
    assert [p.name for p in export_dir.iterdir()] == [".lock"]
