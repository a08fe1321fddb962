"""Speech synthesis backends on real voices, checked by the project's own ASR."""

from __future__ import annotations

import time

import numpy as np
import pytest

from lbrxvoicepro import ConfigError, ModelNotFound, VoicePipeline
from lbrxvoicepro.errors import SynthesisError
from lbrxvoicepro.text import cer, wer
from lbrxvoicepro.tts import create_synthesizer
from lbrxvoicepro.tts.csm import ContextSegment, CSMSynthesizer, usable_frames
from lbrxvoicepro.types import Audio
from tests.tiny_csm import CODEBOOKS, build_tiny_csm

ENGLISH = [
    "The weather is lovely today.",
    "I would like a cup of coffee, please.",
    "The train to London leaves at noon.",
    "She reads a book every week.",
    "Please close the window before you leave.",
    "My brother lives in a small house by the river.",
    "We are going to the market tomorrow morning.",
    "The children played football in the park.",
    "This phone has a very good camera.",
    "Thank you for your help with the project.",
]
POLISH = [
    "Dzień dobry, jak się masz?",
    "Dzisiaj jest bardzo ładna pogoda.",
    "Mieszkam w Krakowie od pięciu lat.",
    "Proszę zamknąć okno przed wyjściem.",
    "Mój brat lubi grać w piłkę nożną.",
    "Jutro rano pojedziemy na targ.",
    "Ta książka jest bardzo ciekawa.",
    "Kawa z mlekiem smakuje najlepiej.",
    "Pociąg do Warszawy odjeżdża o dziesiątej.",
    "Dziękuję za pomoc przy tym projekcie.",
]
# eSpeak's formant voice is intelligible but far from natural speech, and Whisper base never
# heard anything like it in training: the measured round-trip CER is 0.07 (BENCHMARKS.md). The
# bound leaves room for decoding variance yet fails on garbled audio, broken normalization or a
# wrong-language voice (an English voice reading these sentences scores above 0.4).
ESPEAK_POLISH_CER_BOUND = 0.20


@pytest.fixture(scope="module")
def espeak(models):
    return models.synthesizer("espeak:pl")


@pytest.fixture(scope="module")
def piper(models):
    return models.synthesizer("piper:en_US-joe-medium")


@pytest.fixture(scope="module")
def tiny_csm_path(tmp_path_factory):
    return build_tiny_csm(tmp_path_factory.mktemp("csm"))


def test_piper_english_round_trip_through_our_asr(piper, pipeline: VoicePipeline) -> None:
    audio = piper.synthesize_sync(" ".join(ENGLISH))
    assert audio.sample_rate == 22050
    transcript = pipeline.transcribe_sync(audio, language="en")
    assert wer(" ".join(ENGLISH), transcript.text) <= 0.10


def test_espeak_polish_round_trip_through_our_asr(espeak, pipeline: VoicePipeline) -> None:
    audio = espeak.synthesize_sync(" ".join(POLISH))
    transcript = pipeline.transcribe_sync(audio, language="pl")
    measured = cer(" ".join(POLISH), transcript.text)
    print(f"eSpeak Polish round-trip CER {measured:.3f}")
    assert measured <= ESPEAK_POLISH_CER_BOUND


@pytest.mark.parametrize("voice", ["espeak:pl", "piper:en_US-joe-medium"])
def test_streaming_yields_one_chunk_per_sentence_in_order(models, voice) -> None:
    synthesizer = models.synthesizer(voice)
    chunks = list(synthesizer.stream("Pierwsze zdanie. Drugie zdanie! Trzecie?"))
    assert [c.index for c in chunks] == [0, 1, 2]
    assert [c.text for c in chunks] == ["Pierwsze zdanie.", "Drugie zdanie!", "Trzecie?"]
    assert all(c.sample_rate == synthesizer.sample_rate and c.duration > 0.2 for c in chunks)
    assert all(np.abs(c.samples).max() <= 1.0 for c in chunks)


@pytest.mark.parametrize("voice", ["espeak:pl", "piper:en_US-joe-medium"])
@pytest.mark.parametrize(
    ("text", "reason"),
    [("", "empty"), ("   \n ", "empty"), ("?!... ,;", "no words"), ("😀🎉", "no words")],
)
def test_nothing_to_say_is_a_clear_error(models, voice, text, reason) -> None:
    with pytest.raises(SynthesisError, match=reason):
        models.synthesizer(voice).synthesize_sync(text)


@pytest.mark.parametrize("voice", ["espeak:pl", "piper:en_US-joe-medium"])
def test_emoji_and_mixed_scripts_still_give_speech(models, voice) -> None:
    synthesizer = models.synthesizer(voice)
    for text in ("Dzień dobry 😀 wszystkim!", "Привет, hello, cześć, 你好, שלום."):
        audio = synthesizer.synthesize_sync(text)
        assert audio.duration > 0.5
        assert np.isfinite(audio.samples).all()


@pytest.mark.parametrize("voice", ["espeak:pl", "piper:en_US-joe-medium"])
def test_a_hundred_kilobytes_of_text_streams_without_delay(models, voice) -> None:
    synthesizer = models.synthesizer(voice)
    text = ("To jest zdanie numer 7, a potem kolejne. " * 3000)[:100_000]
    started = time.perf_counter()
    stream = synthesizer.stream(text)
    first = next(stream)
    # Speaking all 2,500 sentences first would take minutes; the first comes in ~0.1 s here,
    # so this bound holds on a machine many times slower and still fails a non-streaming voice.
    assert time.perf_counter() - started < 10.0
    assert first.duration > 0.5
    rest = [next(stream) for _ in range(4)]
    assert [c.index for c in rest] == [1, 2, 3, 4]
    stream.close()


def test_unknown_voice_and_missing_models_are_named(tmp_path) -> None:
    with pytest.raises(ConfigError, match="unknown voice backend 'festival'"):
        create_synthesizer("festival:pl")
    with pytest.raises(ModelNotFound, match="no such Piper voice"):
        create_synthesizer(f"piper:{tmp_path / 'pl_PL-gosia-medium.onnx'}")
    with pytest.raises(ModelNotFound, match="no CSM model"):
        create_synthesizer(f"csm:{tmp_path / 'csm-1b'}")
    with pytest.raises(SynthesisError, match="no voice"):
        create_synthesizer("espeak:xx-nonexistent")


def test_tiny_csm_speaks_24khz_audio_of_bounded_length(tiny_csm_path) -> None:
    import torch

    torch.manual_seed(1)
    tts = CSMSynthesizer(tiny_csm_path, speaker=0, max_seconds=2.0)
    audio = tts.synthesize_sync("Dzień dobry. To jest test.")
    assert audio.sample_rate == 24000
    frame = 24000 / 12.5
    assert frame <= len(audio.samples) <= 2 * (2.0 * 24000) + tts.pause_seconds * 24000
    assert np.isfinite(audio.samples).all()


def test_tiny_csm_takes_a_speaker_and_conversation_context(tiny_csm_path) -> None:
    import torch

    torch.manual_seed(2)
    earlier = ContextSegment("Cześć!", 1, Audio(np.zeros(16000, dtype=np.float32), 16000))
    tts = CSMSynthesizer(tiny_csm_path, speaker=0, context=[earlier], max_seconds=1.0)
    chunks = list(tts.stream("Jak się masz?"))
    assert len(chunks) == 1
    assert 0 < chunks[0].duration <= 1.0


def test_generation_ends_at_the_end_frame_or_an_undecodable_id() -> None:
    codes = np.full((6, CODEBOOKS), 5)
    assert len(usable_frames(codes, 0, 2048)) == 6
    codes[4] = 0
    assert len(usable_frames(codes, 0, 2048)) == 4
    codes[2, 3] = 2050
    assert len(usable_frames(codes, 0, 2048)) == 2
    codes[0, 0] = 2049
    assert len(usable_frames(codes, 0, 2048)) == 0


async def test_await_synthesize_for_every_backend(models, tiny_csm_path) -> None:
    for tts in (
        models.synthesizer("espeak:pl"),
        models.synthesizer("piper:en_US-joe-medium"),
        CSMSynthesizer(tiny_csm_path, max_seconds=0.5),
    ):
        audio = await tts.synthesize("Dzień dobry.")
        assert audio.sample_rate == tts.sample_rate
        assert audio.duration > 0
        chunks = [chunk async for chunk in tts.astream("Raz. Dwa.")]
        assert len(chunks) == 2


def test_a_missing_backend_names_its_install_command(monkeypatch) -> None:
    from lbrxvoicepro import BackendNotInstalled
    from lbrxvoicepro.tts import BACKENDS

    monkeypatch.setitem(BACKENDS, "fake", ("lbrxvoicepro_absent_module:Fake", "fake", "x"))
    with pytest.raises(BackendNotInstalled, match=r"pip install 'lbrxvoicepro\[fake\]'"):
        create_synthesizer("fake")
