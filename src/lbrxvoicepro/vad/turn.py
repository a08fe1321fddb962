"""Learned end of turn: smart-turn v3.2 (ONNX, BSD-2, 23 languages including Polish) tells from
how the last 8 s of speech sound (intonation, a trailing "i...", a finished clause) whether the
speaker is done, so a turn can close after a short pause instead of a long fixed one."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from lbrxvoicepro.vad.silero import single_thread_session

SAMPLE_RATE = 16000
WINDOW_S = 8
"""The model hears the last 8 s of the utterance, zero-padded in front when shorter."""


class SmartTurn:
    def __init__(self, model_path: Path) -> None:
        from faster_whisper.feature_extractor import FeatureExtractor

        self._session = single_thread_session(model_path)
        self._features = FeatureExtractor(feature_size=80, chunk_length=WINDOW_S)

    def probability(self, samples: np.ndarray) -> float:
        """How likely the speaker has finished, from 16 kHz speech ending now."""
        size = WINDOW_S * SAMPLE_RATE
        heard = np.asarray(samples, dtype=np.float32)[-size:]
        window = np.pad(heard, (size - len(heard), 0))
        # Whisper's feature extractor normalises the waveform first (transformers'
        # do_normalize), as the model was trained.
        window = (window - window.mean()) / np.sqrt(window.var() + 1e-7)
        features = self._features(window, padding=0)
        (scores,) = self._session.run(None, {"input_features": features[None].astype(np.float32)})
        return float(np.asarray(scores).reshape(-1)[0])
