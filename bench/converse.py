"""Voice to voice: from the true end of a spoken question to the first audio of the answer.

Questions are real read Polish speech (nEMO clips from ``../shared/testdata/pl-nemo``, several
speakers), each with 1 s of silence before and 2.5 s after, fed to the conversation engine in
100 ms frames at real-time pace. The true end of speech is where Silero's probability last
passes 0.5 in the clip itself (the VAD's hangover and the end-of-turn wait are counted). The
answer comes from a knowledge base (``examples/kb``) through Gemma 3 270M on llama.cpp, spoken
by eSpeak NG Polish: the bundled models.

First, as real servers (``bench/converse_server.py``): the code of ``--baseline`` (049bb7d,
the server's own turn loop before the conversation work) and this checkout, each a
``lbrxvoicepro serve`` process, the same WebSocket client speaking the same questions; this is
the comparison with today's design. Then the designs in this process, for the breakdown by
stage, one after the other on the same questions in the same run:
- ``today``: an emulation of that design on the engine: the turn ends after a fixed 0.5 s pause
  (``vad.max_pause_ms``), then Whisper (``asr.beam_size``, 8) decodes the whole question,
  speaking waits for the answer's first whole sentence, nothing is read ahead (it keeps the
  engine's other gains);
- ``project``: the defaults: smart-turn after a 200 ms pause, the question recognised from a
  100 ms pause on (beam 5) and answered as soon as that is done, the prompt read in while the
  user speaks, speaking from the first clause.
And the floor: the sum of each raw library's own latency on the same input, called directly
one after the other with nothing waited for (faster-whisper ``transcribe`` of the recording
alone, beam 5; llama.cpp's first token for the same prompt, in process; eSpeak on that token).
The project can beat it: it fits Whisper's window to the audio and overlaps the stages.

    .venv/bin/python bench/converse.py [--questions 12] [--no-servers] [--set LBRX_KB__TOP_K=3]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from converse_server import add_options, compare
from spoken_questions import FRAME, Question, questions

from lbrxvoicepro.config import Settings
from lbrxvoicepro.conversation import (
    AnswerAudio,
    ConversationEngine,
    ConversationSetup,
    Event,
    Heard,
    TurnDone,
    TurnFailed,
    question_asr,
)
from lbrxvoicepro.kb.base import expand_paths
from lbrxvoicepro.llm.llama import transcript
from lbrxvoicepro.llm.prompt import build_prompt
from lbrxvoicepro.runtime import ModelManager
from lbrxvoicepro.text import wer
from lbrxvoicepro.types import Audio

STAGES = [
    ("end_of_turn_ms", "end-of-turn wait"),
    ("asr_ms", "recognition"),
    ("retrieval_ms", "retrieval"),
    ("llm_first_token_ms", "LLM first token"),
    ("first_clause_ms", "first clause written"),
    ("first_tts_ms", "first synthesis"),
]


@dataclass
class Turn:
    voice_to_voice_s: float | None = None
    heard: str = ""
    timings: dict[str, float] = field(default_factory=dict)
    error: str = ""


async def ask(
    models: ModelManager, settings: Settings, setup: ConversationSetup, question: Question
) -> Turn:
    """Speak the question in real time; wait for the whole answer."""
    turn, done = Turn(), asyncio.Event()
    started = 0.0

    async def on_event(event: Event) -> None:
        if isinstance(event, AnswerAudio) and turn.voice_to_voice_s is None:
            turn.voice_to_voice_s = time.perf_counter() - (started + question.speech_end_s)
        elif isinstance(event, Heard):
            turn.heard = event.text
        elif isinstance(event, TurnDone):
            turn.timings = event.timings
            done.set()
        elif isinstance(event, TurnFailed):
            turn.error = event.message
            done.set()

    async with ConversationEngine(models, settings, on_event, setup=setup) as engine:
        started = time.perf_counter()
        for index, first in enumerate(range(0, len(question.samples), FRAME)):
            await engine.feed(question.samples[first : first + FRAME])
            await asyncio.sleep(
                max(0.0, started + (index + 1) * FRAME / 16000 - time.perf_counter())
            )
        silence = np.zeros(FRAME, np.float32)
        while not done.is_set():  # the client keeps sending silence, as a microphone does
            try:
                await asyncio.wait_for(done.wait(), FRAME / 16000)
            except TimeoutError:
                await engine.feed(silence)
                if time.perf_counter() - started > 120:
                    turn.error = "no answer within 120 s"
                    break
    return turn


def floor(models: ModelManager, settings: Settings, kb: str, question: Question) -> float:
    """Raw components on the same input, one after the other, nothing waited for."""
    from faster_whisper import WhisperModel
    from llama_cpp import Llama

    asr = settings.asr
    whisper = _cached(
        "whisper",
        lambda: WhisperModel(
            str(models.catalog.resolve(asr.model, "whisper")), compute_type=asr.compute_type
        ),
    )
    started = time.perf_counter()
    segments, _ = whisper.transcribe(question.clip, language="pl", beam_size=5)
    text = " ".join(s.text for s in segments).strip()
    asr_s = time.perf_counter() - started
    llm = settings.llm
    llama = _cached(
        "llama",
        lambda: Llama(
            str(models.catalog.resolve(llm.model, "llm")), n_ctx=llm.context_tokens, verbose=False
        ),
    )
    hits = models.knowledge_base(kb).search(text, settings.kb.top_k)
    prompt = build_prompt(models.chat_model(), llm.system_prompt, text, hits, [], llm.max_tokens)
    started = time.perf_counter()
    first = ""
    for event in llama.create_completion(
        transcript(prompt.messages), max_tokens=8, temperature=0.0, stream=True
    ):
        first += str(event["choices"][0]["text"])
        if any(char.isalnum() for char in first):
            break
    llm_s = time.perf_counter() - started
    started = time.perf_counter()
    spoken = first if any(char.isalnum() for char in first) else "Tak."  # an empty answer
    models.synthesizer("espeak:pl").synthesize_sync(spoken)
    return asr_s + llm_s + (time.perf_counter() - started)


def whole_utterances(models: ModelManager, settings: Settings, spoken: list[Question]) -> float:
    """Corpus WER of each recording decoded once, whole, with the conversation's settings."""
    transcriber = models.transcriber(question_asr(settings))
    texts = [transcriber.transcribe(Audio(q.clip, 16000), "pl").text for q in spoken]
    return wer(" ".join(q.text for q in spoken), " ".join(texts))


_CACHE: dict[str, object] = {}


def _cached(name: str, build):  # type: ignore[no-untyped-def]
    if name not in _CACHE:
        _CACHE[name] = build()
    return _CACHE[name]


def summary(name: str, turns: list[Turn], spoken: list[Question]) -> float:
    latencies = sorted(t.voice_to_voice_s for t in turns if t.voice_to_voice_s is not None)
    errors = [t.error for t in turns if t.error]
    median = statistics.median(latencies)
    p90 = latencies[min(len(latencies) - 1, int(0.9 * len(latencies)))]
    heard = wer(" ".join(q.text for q in spoken), " ".join(t.heard for t in turns))
    print(
        f"\n{name}: voice to voice median {median:.2f} s, p90 {p90:.2f} s "
        f"({len(latencies)} answers, {len(errors)} errors {errors[:2]}); "
        f"questions heard with WER {heard:.3f}"
    )
    for key, label in STAGES:
        values = [t.timings[key] for t in turns if key in t.timings]
        if values:
            print(f"  {label:<22} median {statistics.median(values):7.0f} ms")
    ahead = [t.timings["answer_ahead_ms"] for t in turns if "answer_ahead_ms" in t.timings]
    dropped = sum(t.timings.get("answers_dropped", 0) for t in turns)
    if ahead or dropped:
        print(
            f"  answered ahead of the end of the turn: {len(ahead)} of {len(turns)} turns "
            f"(median {statistics.median(ahead) if ahead else 0:.0f} ms before it); "
            f"answers begun and dropped: {dropped:.0f}"
        )
    return median


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--questions", type=int, default=12)
    parser.add_argument("--nemo", type=Path, default=Path("../shared/testdata/pl-nemo"))
    parser.add_argument(
        "--no-servers", action="store_true", help="only the designs in this process"
    )
    add_options(parser)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        base = Settings()
        base = base.model_copy(
            update={
                "kb": base.kb.model_copy(update={"data_dir": Path(folder)}),
                "llm": base.llm.model_copy(update={"max_tokens": 48, "temperature": 0.0}),
            }
        )
        models = ModelManager(base)
        files, _ = expand_paths([Path("examples/kb")])
        report = models.knowledge_base("bench").add(files)
        assert report.added and not report.failed, report
        setup = ConversationSetup(language="pl", voice="espeak:pl", kb="bench")
        spoken = questions(args.nemo, args.questions, models)
        if not args.no_servers:
            settings = dict(item.split("=", 1) for item in args.set)
            compare(spoken, args.baseline, settings, args.port)
        today = base.conversation.model_copy(
            update={
                "turn_model": "",
                "draft_pause_ms": 0,
                "beam_size": 0,
                "first_clause": False,
                "read_ahead": False,
            }
        )
        designs = {"today": base.model_copy(update={"conversation": today}), "project": base}
        medians = {}
        for name, settings in designs.items():
            asyncio.run(ask(models, settings, setup, spoken[0]))  # warm: models loaded
            turns = [asyncio.run(ask(models, settings, setup, q)) for q in spoken]
            medians[name] = summary(name, turns, spoken)
        whole = whole_utterances(models, base, spoken)
        print(f"\nwhole-utterance decoding, the project's settings: WER {whole:.3f}")
        floors = [floor(models, base, "bench", q) for q in spoken]
        medians["floor"] = statistics.median(floors)
        print(f"\nfloor (raw components, summed): median {medians['floor']:.2f} s")
        print(
            f"\nproject vs today: {medians['today'] / medians['project']:.2f}x faster; "
            f"project / floor: {medians['project'] / medians['floor']:.2f}x"
        )
        models.unload()


if __name__ == "__main__":
    main()
