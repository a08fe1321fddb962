"""The conversation's listening core on real models: Silero VAD, smart-turn v3.2, and speech
over the answer told apart from a backchannel."""

from __future__ import annotations

import numpy as np
import pytest

from lbrxvoicepro.audio import load
from lbrxvoicepro.config import Settings
from lbrxvoicepro.conversation.listener import Listened, Listener
from lbrxvoicepro.runtime import ModelManager
from tests.conftest import POLISH_CLIPS

FRAME = 1600


def spoken(models: ModelManager, text: str) -> np.ndarray:
    return load(models.synthesizer("espeak:pl").synthesize_sync(text), 16000).samples


def listen(
    listener: Listener, samples: np.ndarray, answering: bool = False, silence_s: float = 2.0
) -> list[Listened]:
    padded = np.concatenate(
        [np.zeros(8000, np.float32), samples, np.zeros(int(silence_s * 16000), np.float32)]
    )
    return [
        listener.hear(padded[first : first + FRAME], answering)
        for first in range(0, len(padded), FRAME)
    ]


@pytest.mark.parametrize("with_model", [True, False])
def test_a_finished_question_ends_the_turn_sooner_with_the_model(
    models: ModelManager, settings: Settings, with_model: bool
) -> None:
    turn_model = models.turn_detector("smart-turn-v3.2") if with_model else None
    listener = Listener(models.vad(), turn_model, settings.vad, settings.conversation)
    heard = listen(listener, spoken(models, "Jaka jest jutro pogoda w Krakowie?"))
    utterances = [u for h in heard for u in h.utterances]
    decisions = [d for h in heard for d in h.decisions]
    assert len(utterances) == 1
    if with_model:
        assert [d.complete for d in decisions] == [True], decisions
        assert utterances[0].wait_s < 0.4
    else:
        assert decisions == [] and utterances[0].wait_s >= settings.vad.max_pause_ms / 1000


def test_the_model_is_asked_early_in_the_pause_and_its_yes_waits_for_the_turn_pause(
    models: ModelManager, settings: Settings
) -> None:
    """Asked no later than the draft is taken, smart-turn runs before that recognition rather
    than beside it; the turn still ends only once the pause reaches ``turn_pause_ms``."""
    turn_model = models.turn_detector("smart-turn-v3.2")
    listener = Listener(models.vad(), turn_model, settings.vad, settings.conversation)
    heard = listen(listener, spoken(models, "Jaka jest jutro pogoda w Krakowie?"))
    asked = next(index for index, h in enumerate(heard) if h.decisions)
    drafted = next(index for index, h in enumerate(heard) if h.draft)
    ended = next(index for index, h in enumerate(heard) if h.utterances)
    assert asked <= drafted < ended
    assert heard[asked].decisions[0].complete
    assert heard[ended].utterances[0].wait_s >= settings.conversation.turn_pause_ms / 1000


def test_a_short_word_over_the_answer_pauses_it_and_is_not_a_turn(
    models: ModelManager, settings: Settings
) -> None:
    listener = Listener(models.vad(), None, settings.vad, settings.conversation)
    heard = listen(listener, spoken(models, "Tak."), answering=True)
    assert [h.pause_answer for h in heard].count(True) == 1
    assert not any(h.interrupt for h in heard)
    assert [b for h in heard for b in h.backchannels] == [pytest.approx(0.3, abs=0.15)]
    assert [h.go_on for h in heard].count(True) == 1
    assert not any(h.utterances for h in heard)


def test_a_word_over_the_answer_too_short_to_keep_is_still_a_backchannel(
    models: ModelManager, settings: Settings
) -> None:
    """The VAD drops bursts under ``min_speech_ms``; over the answer such a burst was still
    announced (the answer paused), so it must be resolved as a backchannel too."""
    vad = settings.vad.model_copy(update={"min_speech_ms": 2000})
    listener = Listener(models.vad(), None, vad, settings.conversation)
    heard = listen(listener, spoken(models, "Tak."), answering=True)
    assert [h.speech_started is not None for h in heard].count(True) == 1
    assert [b for h in heard for b in h.backchannels] == [pytest.approx(0.3, abs=0.15)]
    assert [h.go_on for h in heard].count(True) == 1
    assert not any(h.utterances for h in heard)


def test_long_speech_over_the_answer_interrupts_it_and_is_the_next_turn(
    models: ModelManager, settings: Settings
) -> None:
    listener = Listener(models.vad(), None, settings.vad, settings.conversation)
    speech = load(POLISH_CLIPS[3]).samples[: 16000 * 4]
    heard = listen(listener, speech, answering=True)
    paused = next(i for i, h in enumerate(heard) if h.pause_answer)
    interrupted = next(i for i, h in enumerate(heard) if h.interrupt)
    needed = settings.conversation.min_interruption_s
    # the onset may lie anywhere in the frame that noticed it: one frame of slack below
    assert needed - FRAME / 16000 <= (interrupted - paused) * FRAME / 16000 <= needed + 0.4
    assert not any(h.backchannels for h in heard)
    assert len([u for h in heard for u in h.utterances]) >= 1


def test_partials_come_about_once_a_second_of_speech_when_wanted(
    models: ModelManager, settings: Settings
) -> None:
    conversation = settings.conversation.model_copy(update={"partial_every_ms": 1000})
    listener = Listener(models.vad(), None, settings.vad, conversation)
    speech = load(POLISH_CLIPS[0]).samples[: 16000 * 8]
    padded = np.concatenate([np.zeros(8000, np.float32), speech])
    heard = [
        listener.hear(padded[first : first + FRAME], answering=False, partial_wanted=True)
        for first in range(0, len(padded), FRAME)
    ]
    partials = [h.partial for h in heard if h.partial is not None]
    assert 4 <= len(partials) <= 8, len(partials)
    lengths = [p.duration for p in partials]
    assert lengths == sorted(lengths) and lengths[0] >= 1.0  # the utterance so far, growing
    unwanted = Listener(models.vad(), None, settings.vad, conversation)
    assert not any(
        unwanted.hear(padded[first : first + FRAME], answering=False).partial is not None
        for first in range(0, len(padded), FRAME)
    )
