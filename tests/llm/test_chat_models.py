"""Both LLM backends stream real tokens; the prompt builder respects the context window."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import threading
import time
from pathlib import Path

import psutil
import pytest

from lbrxvoicepro.config import LlmSettings
from lbrxvoicepro.errors import LLMError, LLMUnavailable
from lbrxvoicepro.kb.retriever import Hit
from lbrxvoicepro.kb.store import StoredChunk
from lbrxvoicepro.llm import ChatMessage, astream
from lbrxvoicepro.llm.base import until_it_repeats
from lbrxvoicepro.llm.llama import transcript
from lbrxvoicepro.llm.openai_http import OpenAIChatModel
from lbrxvoicepro.llm.prompt import build_prompt, citation_list
from lbrxvoicepro.llm.supervised import SupervisedChatModel, engine_name
from lbrxvoicepro.runtime import ModelManager
from tests.e2e.test_cli import CLI

QUESTION = [ChatMessage("user", "Wymień trzy kolory.")]


def test_embedded_llama_cpp_streams_from_its_own_process(models: ModelManager) -> None:
    model = models.chat_model()
    assert isinstance(model, SupervisedChatModel) and model.pid != os.getpid()
    deltas = list(model.stream(QUESTION, max_tokens=12, temperature=0.0))
    assert len(deltas) >= 3 and "".join(deltas).strip()


def test_a_native_crash_fails_that_answer_by_name_and_the_next_one_works(
    models: ModelManager,
) -> None:
    """A segfault in llama.cpp must be a clear failure of one answer, never a dead caller."""
    model = models.chat_model()
    assert isinstance(model, SupervisedChatModel)
    answer = model.stream([ChatMessage("user", "Opowiedz długą bajkę.")], 200, 0.0)
    next(answer)
    crashed = model.pid
    os.kill(crashed, signal.SIGSEGV)
    with pytest.raises(LLMUnavailable, match="crashed") as failure:
        list(answer)
    assert str(failure.value).startswith(f"{engine_name()} crashed (SIGSEGV) while answering")
    assert "llama-cpp-python 0." in engine_name()
    assert model.pid != crashed
    assert "".join(model.stream(QUESTION, max_tokens=8, temperature=0.0)).strip()


def test_an_answer_left_early_frees_the_model_for_the_next(models: ModelManager) -> None:
    model = models.chat_model()
    answer = model.stream([ChatMessage("user", "Opowiedz długą bajkę.")], 200, 0.0)
    next(answer)
    answer.close()
    assert "".join(model.stream(QUESTION, max_tokens=8, temperature=0.0)).strip()


def test_a_base_model_answers_from_the_passages_in_the_system_prompt(models: ModelManager) -> None:
    """The bundled GGUF has no chat template; the passages (in the system message) must reach
    it: the fact below exists nowhere else."""
    model = models.chat_model()
    assert model.base_model
    safe = Hit(
        StoredChunk(1, "/docs/notatki.txt", "§ 2", "Kod do sejfu w biurze to 4711."), 1, 1, 1
    )
    prompt = build_prompt(model, "Odpowiadaj krótko.", "Jaki jest kod do sejfu?", [safe])
    answer = "".join(model.stream(prompt.messages, max_tokens=20, temperature=0.0))
    assert "4711" in answer and answer == answer.lstrip()


def test_a_base_model_transcript_keeps_every_turn_in_order() -> None:
    messages = [
        ChatMessage("system", "System."),
        ChatMessage("user", "Pierwsze?"),
        ChatMessage("assistant", "Tak."),
        ChatMessage("user", "Drugie?"),
    ]
    assert transcript(messages) == "System.\n\nQ: Pierwsze?\nA: Tak.\n\nQ: Drugie?\nA:"


def test_an_answer_that_repeats_a_sentence_stops_before_the_repeat() -> None:
    looping = ["I'm a stu", "dent. I'm from", " Kraków. I", "'m a student", ". I'm a stu"]
    assert "".join(until_it_repeats(looping)) == "I'm a student. I'm from Kraków."
    short = ["Tak. Tak. Nie", " wiem. Może. Tak."]  # short sentences may recur
    assert "".join(until_it_repeats(short)) == "Tak. Tak. Nie wiem. Może. Tak."
    starts_alike = ["Sklep jest otwarty. Sklep jest", " zamknięty w niedzielę."]
    assert "".join(until_it_repeats(starts_alike)) == "".join(starts_alike)


def test_a_base_model_does_not_repeat_itself_to_the_token_limit(models: ModelManager) -> None:
    """Greeted in English with no passages, Gemma 3 270M used to loop on one sentence ("I'm
    a student of the University of California at Berkeley.") for all 256 tokens."""
    model = models.chat_model()
    answer = "".join(model.stream([ChatMessage("user", "Hello!")], 256, 0.0))
    sentences = [s.strip().lower() for s in re.split(r"[.!?\n]", answer) if len(s.split()) >= 3]
    assert sentences and len(sentences) == len(set(sentences)), answer
    assert model.count_tokens(answer) < 200, answer


async def test_embedded_llama_cpp_streams_off_the_event_loop(models: ModelManager) -> None:
    deltas = [d async for d in astream(models.chat_model(), QUESTION, 8, 0.0)]
    assert len(deltas) >= 2


async def test_the_model_is_marked_working_until_an_answer_left_early_has_stopped(
    models: ModelManager,
) -> None:
    """The conversation's recognition waits on this mark: Whisper beside llama.cpp on two
    cores slows both many times over."""
    working = threading.Lock()
    deltas = astream(models.chat_model(), QUESTION, 48, 0.0, working)
    await anext(deltas)
    assert working.locked(), "held while the model writes"
    await deltas.aclose()
    async with asyncio.timeout(60):  # the worker stops at the model's next delta
        while working.locked():
            await asyncio.sleep(0.01)
    assert [d async for d in astream(models.chat_model(), QUESTION, 4, 0.0, working)]


def test_openai_compatible_server_streams(llm_server: str) -> None:
    model = OpenAIChatModel(LlmSettings(backend="openai", base_url=llm_server, model="gemma"))
    deltas = list(model.stream(QUESTION, max_tokens=12, temperature=0.0))
    assert len(deltas) >= 3 and "".join(deltas).strip()


def test_an_unreachable_server_is_a_clear_error() -> None:
    settings = LlmSettings(backend="openai", base_url="http://127.0.0.1:9/v1", timeout_s=2)
    with pytest.raises(LLMError, match=r"cannot reach the LLM server at http://127\.0\.0\.1:9/v1"):
        list(OpenAIChatModel(settings).stream(QUESTION, 5, 0.0))


def hit(number: int, words: int) -> Hit:
    text = " ".join(["słowo"] * words)
    return Hit(StoredChunk(number, f"/docs/doc{number}.pdf", f"page {number}", text), 0.1, 1, 1)


def test_prompt_keeps_the_best_passages_that_fit(models: ModelManager) -> None:
    model = models.chat_model()
    hits = [hit(n, 400) for n in range(1, 20)]
    history = [ChatMessage("user", "wcześniej"), ChatMessage("assistant", "odpowiedź")]
    prompt = build_prompt(model, "System.", "Pytanie?", hits, history, answer_tokens=256)
    used = sum(model.count_tokens(m.content) for m in prompt.messages)
    assert 1 <= len(prompt.sources) < len(hits)
    assert prompt.sources == hits[: len(prompt.sources)]
    assert used + 256 <= model.context_tokens
    assert prompt.messages[0].content.count("[1] (doc1.pdf, page 1)") == 1
    assert prompt.messages[-1] == ChatMessage("user", "Pytanie?")
    assert citation_list(prompt.sources[:2]) == ["[1] doc1.pdf, page 1", "[2] doc2.pdf, page 2"]


def run(cache_dir: Path, kb_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "LBRX_CACHE_DIR": str(cache_dir), "LBRX_KB__DATA_DIR": str(kb_dir)}
    return subprocess.run([*CLI, *args], capture_output=True, text=True, env=env, timeout=300)


def test_kb_and_ask_commands(cache_dir: Path, tmp_path: Path, llm_server: str) -> None:
    kb_dir = tmp_path / "kb"
    document = tmp_path / "muzeum.txt"
    document.write_text("Muzeum Narodowe jest otwarte we wtorki bezpłatnie.", encoding="utf-8")
    (tmp_path / "broken.pdf").write_bytes(b"%PDF-1.4 broken")
    added = run(
        cache_dir, kb_dir, "kb", "add", str(document), str(tmp_path / "broken.pdf"), "--kb", "muzea"
    )
    assert added.returncode == 1
    assert f"added   {document.resolve()} (1 chunks)" in added.stdout
    assert added.stderr.startswith(f"failed  {tmp_path / 'broken.pdf'}: corrupt or unreadable PDF")
    assert run(cache_dir, kb_dir, "kb", "list").stdout.split() == ["muzea"]
    found = run(cache_dir, kb_dir, "kb", "query", "bezpłatne muzeum", "--kb", "muzea", "-k", "1")
    assert found.stdout.startswith(f"1. {document.resolve()} (line 1)"), found.stdout
    for llm in (["--llm", llm_server, "--model", "gemma"], []):
        answer = run(
            cache_dir, kb_dir, "ask", "Kiedy muzeum jest bezpłatne?", "--kb", "muzea", *llm
        )
        assert answer.returncode == 0, answer.stderr
        assert answer.stderr == "" or answer.stderr.startswith("(the model's answer was not used")
        lines = answer.stdout.rstrip().splitlines()
        assert lines[-1] == "[1] muzeum.txt, line 1"
        assert "wtork" in lines[0] and " [1]" in lines[0], lines
    missing = run(cache_dir, kb_dir, "ask", "Pytanie?", "--kb", "nie-ma")
    assert missing.returncode == 1
    assert "no knowledge base named 'nie-ma'" in missing.stderr
    removed = run(cache_dir, kb_dir, "kb", "remove", "inne.txt", str(document), "--kb", "muzea")
    assert removed.returncode == 1
    assert removed.stdout == f"removed {document.resolve()}\n"
    assert removed.stderr == "failed  inne.txt: not in knowledge base 'muzea'\n"
    assert run(cache_dir, kb_dir, "kb", "list", "--kb", "muzea").stdout == ""
    nothing = run(cache_dir, kb_dir, "kb", "query", "muzeum", "--kb", "muzea")
    assert (nothing.returncode, nothing.stdout) == (0, "")
    assert nothing.stderr == "no passages: knowledge base 'muzea' is empty\n"
    unfounded = run(cache_dir, kb_dir, "ask", "Kiedy muzeum jest bezpłatne?", "--kb", "muzea")
    assert unfounded.returncode == 0
    assert unfounded.stderr == (
        "warning: knowledge base 'muzea' is empty; answering without passages\n"
    )


def test_ask_reports_a_crashed_llm_in_one_line(cache_dir: Path, tmp_path: Path) -> None:
    """The worker is killed with SIGSEGV while it loads the model, as a bad build would crash."""
    asking = subprocess.Popen(
        [*CLI, "ask", "Pytanie?", "--no-kb"],
        env={**os.environ, "LBRX_CACHE_DIR": str(cache_dir), "LBRX_KB__DATA_DIR": str(tmp_path)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    worker = None
    while worker is None and asking.poll() is None:
        worker = next(
            (
                child
                for child in psutil.Process(asking.pid).children()
                if "lbrxvoicepro.llm.worker" in child.cmdline()
            ),
            None,
        )
        time.sleep(0.01)
    assert worker is not None, asking.communicate()
    worker.send_signal(signal.SIGSEGV)
    out, err = asking.communicate(timeout=120)
    assert asking.returncode == 1, (out, err)
    assert err.splitlines() == [
        f"error: {engine_name()} crashed (SIGSEGV) while loading the model with "
        "gemma-3-270m-q4_k_m.pl-en.gguf; it was restarted for the next request"
    ]


def test_kb_and_ask_help_name_the_default_knowledge_base(cache_dir: Path, tmp_path: Path) -> None:
    for command in (["kb", "query"], ["ask"]):
        shown = run(cache_dir, tmp_path, *command, "--help")
        assert shown.returncode == 0, shown.stderr
        words = " ".join(shown.stdout.replace("│", " ").split())
        assert "Knowledge base name; left out, the kb.default setting ('default')." in words


def test_blank_queries_and_questions_are_usage_errors(cache_dir: Path, tmp_path: Path) -> None:
    for command in (["kb", "query", "  "], ["ask", ""]):
        refused = run(cache_dir, tmp_path, *command)
        assert refused.returncode == 2
        assert "is empty" in refused.stderr
