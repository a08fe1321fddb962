"""Silero VAD streaming and the utterance segmenter."""

from __future__ import annotations

import numpy as np
import pytest

from lbrxvoicepro.audio import load
from lbrxvoicepro.config import VadSettings
from lbrxvoicepro.vad import StreamSegmenter, UtteranceSegmenter, speech_spans
from tests.conftest import POLISH_CLIPS

WINDOW_S = 0.032


@pytest.fixture(scope="module")
def vad(models):
    return models.vad()


def test_streaming_probabilities_equal_whole_file_for_any_chunking(vad):
    samples = load(POLISH_CLIPS[1]).samples
    whole = vad.probabilities(samples)
    stream = vad.stream()
    rng = np.random.default_rng(0)
    parts, position = [], 0
    while position < len(samples):
        size = int(rng.integers(1, 4000))
        parts.append(stream.feed(samples[position : position + size]))
        position += size
    parts.append(stream.flush())
    assert len(whole) == int(np.ceil(len(samples) / 512))
    assert np.array_equal(np.concatenate(parts), whole)
    assert (whole > 0.5).mean() > 0.5


def test_speech_is_found_in_real_speech_and_not_in_noise(vad, non_speech):
    audio = load(POLISH_CLIPS[0])
    spans = speech_spans(audio, vad, VadSettings())
    assert sum(s.duration for s in spans) > 0.8 * audio.duration
    assert all(0 <= s.start < s.end <= audio.duration for s in spans)
    from lbrxvoicepro import Audio

    for kind, samples in non_speech.items():
        assert speech_spans(Audio(samples, 16000), vad, VadSettings()) == [], kind


def test_stream_segmenter_cuts_the_same_utterances_as_the_whole_file(vad):
    audio = load(POLISH_CLIPS[3])
    settings = VadSettings(max_pause_ms=300, max_utterance_s=8.0)
    expected = speech_spans(audio, vad, settings)
    segmenter = StreamSegmenter(vad, settings)
    chunks = []
    for first in range(0, len(audio.samples), 1600):
        chunks += segmenter.feed(audio.samples[first : first + 1600])
    chunks += segmenter.flush()
    assert len(expected) >= 3
    got = [t for c in chunks for t in (c.span.start, c.span.end)]
    assert got == pytest.approx([t for s in expected for t in (s.start, s.end)])
    for chunk in chunks:
        assert chunk.audio.duration == pytest.approx(chunk.span.duration, abs=1e-3)
        assert np.array_equal(
            chunk.audio.samples, audio.slice(chunk.span.start, chunk.span.end).samples
        )


def _probabilities(pattern: str) -> list[float]:
    """One character per 32 ms window: '#' speech, '.' silence."""
    return [0.9 if c == "#" else 0.05 for c in pattern]


def _spans(pattern: str, **overrides) -> list[tuple[float, float]]:
    settings = VadSettings(**{"padding_ms": 0, "min_speech_ms": 0, **overrides})
    segmenter = UtteranceSegmenter(settings)
    spans = segmenter.push(_probabilities(pattern)) + segmenter.finish()
    return [(round(s.start / WINDOW_S), round(s.end / WINDOW_S)) for s in spans]


def test_a_long_pause_closes_an_utterance_and_a_short_one_does_not():
    pattern = "..####....####" + "." * 20 + "###"
    assert _spans(pattern, max_pause_ms=500) == [(2, 14), (34, 37)]


def test_short_bursts_are_dropped():
    assert _spans("..##" + "." * 20 + "#" * 12, min_speech_ms=250) == [(24, 36)]


def test_long_speech_is_split_at_its_longest_pause():
    pattern = "#" * 20 + "..." + "#" * 10 + "....." + "#" * 30
    spans = _spans(pattern, max_utterance_s=50 * WINDOW_S, max_pause_ms=500)
    assert spans[0] == (0, 33)
    assert all(end - start <= 50 for start, end in spans)


def test_padding_is_added_without_overlapping_the_neighbour():
    pattern = "." * 10 + "#" * 10 + "." * 20 + "#" * 10 + "." * 10
    spans = _spans(pattern, padding_ms=int(15 * WINDOW_S * 1000), max_pause_ms=500)
    assert spans[0][0] == 0
    assert spans[0][1] <= spans[1][0]


def test_no_utterance_is_longer_than_max_utterance_s_with_its_padding():
    settings = VadSettings(max_utterance_s=20.0, padding_ms=300, min_speech_ms=0)
    segmenter = UtteranceSegmenter(settings)
    spans = segmenter.push(_probabilities("." * 40 + "#" * 2000 + "." * 40)) + segmenter.finish()
    assert len(spans) >= 3
    assert all(s.duration <= 20.0 + 1e-9 for s in spans), [s.duration for s in spans]
