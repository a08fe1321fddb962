"""The GGUF copy with a vocabulary for Polish and English: the same tokens and the same greedy
answers as the whole model, a smaller output layer."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from llama_cpp import Llama

from lbrxvoicepro.llm.supervised import SupervisedChatModel
from lbrxvoicepro.llm.vocabulary import trimmed
from lbrxvoicepro.runtime import ModelManager

PROMPTS = [
    "Pytanie: W jakich godzinach jest otwarta biblioteka w sobotę?\nOdpowiedź:",
    "Q: Which river flows through Kraków, and what was the city until 1596?\nA:",
]


@pytest.fixture(scope="module")
def trimmed_gguf(gguf: Path, models: ModelManager) -> Path:
    return trimmed(gguf, models.settings.cache_dir / "trimmed")


@pytest.fixture(scope="module")
def pair(gguf: Path, trimmed_gguf: Path) -> Iterator[tuple[Llama, Llama]]:
    whole, small = (
        Llama(str(p), n_ctx=512, n_threads=2, verbose=False) for p in (gguf, trimmed_gguf)
    )
    yield whole, small
    whole.close()
    small.close()


def pieces(model: Llama, text: str) -> list[bytes]:
    return [model.detokenize([token]) for token in model.tokenize(text.encode(), add_bos=True)]


def test_polish_and_english_text_reads_as_the_same_tokens(pair: tuple[Llama, Llama]) -> None:
    whole, small = pair
    assert small.n_vocab() < 0.6 * whole.n_vocab()
    documents = sorted(Path("examples/kb").iterdir())
    texts = [path.read_text(encoding="utf-8") for path in documents] + PROMPTS
    texts.append("Zażółć gęślą jaźń — „cytat” (1978 r.), 12:00–18:00, 25 zł, e-mail: a@b.pl…")
    for text in texts:
        assert pieces(small, text) == pieces(whole, text)


def test_text_in_other_scripts_still_reads(pair: tuple[Llama, Llama]) -> None:
    _, small = pair
    text = "Café in Zürich, Привет, 東京 🙂"
    tokens = small.tokenize(text.encode(), add_bos=False)
    assert small.detokenize(tokens).decode() == text


def test_greedy_answers_are_the_same_token_for_token(pair: tuple[Llama, Llama]) -> None:
    whole, small = pair
    for prompt in PROMPTS:
        answers = []
        for model in (whole, small):
            model.reset()
            result = model.create_completion(prompt, max_tokens=24, temperature=0.0)
            answers.append(result["choices"][0]["text"])  # type: ignore[index]
        assert answers[0].strip() and answers[1] == answers[0]


def test_the_model_manager_runs_the_trimmed_copy_made_once(
    models: ModelManager, trimmed_gguf: Path
) -> None:
    made = trimmed_gguf.stat().st_mtime_ns
    model = models.chat_model()
    assert isinstance(model, SupervisedChatModel) and model.model_path == trimmed_gguf
    source = models.catalog.resolve("gemma-3-270m", "llm")
    assert trimmed(source, trimmed_gguf.parent) == trimmed_gguf
    assert trimmed_gguf.stat().st_mtime_ns == made
