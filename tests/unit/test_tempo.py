"""Speech faster or slower at the same pitch."""

from __future__ import annotations

import numpy as np
import pytest

from lbrxvoicepro.audio.tempo import change_speed
from lbrxvoicepro.types import Audio

RATE = 22050


def peak_hz(audio: Audio) -> float:
    spectrum = np.abs(np.fft.rfft(audio.samples))
    return float(np.fft.rfftfreq(len(audio.samples), 1 / audio.sample_rate)[np.argmax(spectrum)])


@pytest.mark.parametrize("speed", [0.25, 0.5, 0.8, 1.5, 2.0, 4.0])
def test_the_length_follows_the_speed_and_the_pitch_stays(speed: float) -> None:
    tone = Audio(
        (0.3 * np.sin(2 * np.pi * 440 * np.arange(2 * RATE) / RATE)).astype(np.float32), RATE
    )
    changed = change_speed(tone, speed)
    assert changed.sample_rate == RATE
    assert changed.duration == pytest.approx(2.0 / speed, rel=0.03)
    assert peak_hz(changed) == pytest.approx(440, abs=5)


def test_normal_speed_is_the_same_audio_and_nonsense_is_refused() -> None:
    tone = Audio(np.ones(100, np.float32) * 0.1, RATE)
    assert change_speed(tone, 1.0) is tone
    with pytest.raises(ValueError, match=r"outside 0\.25 to 4"):
        change_speed(tone, 5.0)
