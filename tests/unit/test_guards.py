"""Hallucination guards and scoring normalization."""

from __future__ import annotations

import itertools

from lbrxvoicepro.asr.guards import collapse_loops, guard_segments, script_share
from lbrxvoicepro.config import AsrSettings
from lbrxvoicepro.text import cer, normalize_for_scoring, wer
from lbrxvoicepro.types import Segment, Word


def _segment(text: str, **signals: float) -> Segment:
    return Segment(0.0, 2.0, text, **signals)


def test_repetition_loops_are_collapsed_but_normal_repeats_kept():
    looped = _segment(" tak tak tak tak tak tak i nie")
    assert collapse_loops(looped, 3).text == "tak i nie"
    phrase = _segment(" to jest to jest to jest to jest koniec")
    assert collapse_loops(phrase, 3).text == "to jest koniec"
    normal = _segment(" bardzo bardzo dobrze")
    assert collapse_loops(normal, 3) is normal


def test_word_timed_loops_keep_their_words_consistent():
    words = tuple(Word(" dziękuję", i, i + 0.5, 0.9) for i in range(6))
    segment = Segment(0.0, 6.0, " dziękuję" * 6, words=words)
    repaired = collapse_loops(segment, 3)
    assert repaired.words == words[:1]
    assert repaired.text == " dziękuję"


def test_wrong_script_no_speech_and_compression_are_rejected():
    settings = AsrSettings()
    cyrillic = _segment(" Привет, как дела")
    no_speech = _segment(" Dziękuję za uwagę.", no_speech_prob=0.9, avg_logprob=-1.5)
    repetitive = _segment(" a b c", compression_ratio=3.1)
    fine = _segment(" Dzień dobry, jak się masz?", no_speech_prob=0.1, avg_logprob=-0.3)
    kept, notes = guard_segments([cyrillic, no_speech, repetitive, fine], "pl", settings)
    assert kept == [fine]
    assert any("wrong script" in n for n in notes)
    assert any("no speech" in n for n in notes)
    assert any("repetitive" in n for n in notes)
    assert script_share("Zażółć gęślą jaźń", "pl") == 1.0
    assert script_share("Привет", "ru") == 1.0


def test_scoring_ignores_case_punctuation_and_fillers():
    assert normalize_for_scoring("Yyy, no TAK... eee mhm — dobrze!") == "no tak dobrze"
    assert wer("yyy no tak dobrze", "No, tak. Dobrze.") == 0.0
    assert wer("ala ma kota", "ala ma psa") == 1 / 3
    assert wer("ala ma kota", "") == 1.0
    assert wer("", "") == 0.0
    assert cer("kot", "kod") == 1 / 3


def test_clips_stay_within_one_window_and_drop_a_padding_only_tail() -> None:
    import numpy as np

    from lbrxvoicepro.asr.timeline import SpeechTimeline
    from lbrxvoicepro.asr.whisper import CLIP_SECONDS, _clip_bounds
    from lbrxvoicepro.types import Audio, SpeechSpan

    audio = Audio(np.zeros(int(16000 * 70.4), dtype=np.float32), 16000)
    timeline = SpeechTimeline.build(audio, [SpeechSpan(0.0, 40.0), SpeechSpan(45.0, 70.4)])
    clips = _clip_bounds(timeline)
    assert all(end - start <= CLIP_SECONDS for start, end in clips)
    assert clips[0][0] == 0 and clips[-1][1] == timeline.audio.duration
    assert all(a[1] == b[0] for a, b in itertools.pairwise(clips))
    single = SpeechTimeline.build(audio, [SpeechSpan(0.0, 30.4)])
    assert len(_clip_bounds(single, (SpeechSpan(0.5, 29.5),))) == 1
    assert len(_clip_bounds(single, (SpeechSpan(0.5, 30.3),))) == 2
    talk = SpeechTimeline.build(audio, [SpeechSpan(0.0, 50.0)])
    heard = (SpeechSpan(0.5, 12.0), SpeechSpan(12.4, 25.0), SpeechSpan(25.3, 49.0))
    assert _clip_bounds(talk, heard) == [(0.0, 25.15), (25.15, 50.0)]
