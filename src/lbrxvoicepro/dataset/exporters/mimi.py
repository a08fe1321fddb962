"""Mimi codec codes per utterance (12.5 Hz frames, 8 or 32 codebooks of 2048), for training
speech-language models on tokens: ``codes/<id>.npy`` (codebooks x frames, int64: what
``MimiModel.decode`` takes as it is) and a
``manifest.jsonl`` of {id, codes, frames, codebooks, duration, text, speaker}.

The codes come from the Mimi model of Hugging Face transformers, loaded from a local directory
(the ``kyutai/mimi`` checkpoint, or any ``MimiModel.save_pretrained`` output).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from lbrxvoicepro.dataset.exporters.base import (
    TextForm,
    json_lines,
    load_audio,
    training_text,
    write_text,
)
from lbrxvoicepro.dataset.store import DatasetStore
from lbrxvoicepro.errors import BackendNotInstalled, ConfigError, ModelLoadError
from lbrxvoicepro.types import Utterance

FRAME_RATE = 12.5


class MimiExporter:
    name = "mimi"

    def __init__(
        self, model_path: Path | None = None, codebooks: int = 8, text_form: TextForm = "spoken"
    ) -> None:
        self.text_form = text_form
        if model_path is None:
            raise ConfigError("the mimi format needs --mimi-model PATH (a local Mimi model)")
        if codebooks not in (8, 32):
            raise ConfigError(f"Mimi codes come in 8 or 32 codebooks, not {codebooks}")
        if not Path(model_path).is_dir():  # else transformers takes it for a hub repo id
            raise ConfigError(
                f"--mimi-model {model_path}: no such directory (a local Mimi model: "
                "config.json and model.safetensors)"
            )
        try:
            import torch
            from transformers import MimiModel
        except ImportError as error:
            raise BackendNotInstalled.extra("mimi", "csm") from error
        try:
            self.model: Any = MimiModel.from_pretrained(model_path).eval()
        except (OSError, ValueError) as error:
            raise ModelLoadError(f"{model_path}: cannot load Mimi: {error}") from error
        if codebooks > self.model.config.num_quantizers:
            raise ConfigError(
                f"{model_path}: this Mimi has {self.model.config.num_quantizers} codebooks"
            )
        self.torch = torch
        self.codebooks = codebooks
        self.sample_rate = int(self.model.config.sampling_rate)

    def encode(self, samples: np.ndarray) -> np.ndarray:
        """Codes (codebooks x frames) of 24 kHz audio: ceil(duration x 12.5) frames."""
        frame = int(self.sample_rate / FRAME_RATE)
        frames = math.ceil(len(samples) / frame)
        padded = np.zeros(frames * frame, dtype=np.float32)
        padded[: len(samples)] = samples
        with self.torch.inference_mode():
            codes = self.model.encode(
                self.torch.from_numpy(padded)[None, None], num_quantizers=self.codebooks
            ).audio_codes
        return codes[0, :, :frames].numpy().astype(np.int64)

    def write(self, store: DatasetStore, splits: dict[str, list[Utterance]], out: Path) -> None:
        for split_name, utterances in splits.items():
            rows = []
            for utterance in utterances:
                audio = load_audio(store, utterance, self.sample_rate)
                codes = self.encode(audio.samples)
                relative = f"codes/{utterance.id}.npy"
                target = out / split_name / relative
                target.parent.mkdir(parents=True, exist_ok=True)
                temporary = target.with_name(f".{target.name}.partial")
                with open(temporary, "wb") as handle:
                    np.save(handle, codes)
                temporary.replace(target)
                rows.append(
                    {
                        "id": utterance.id,
                        "codes": relative,
                        "frames": int(codes.shape[1]),
                        "codebooks": int(codes.shape[0]),
                        "duration": round(audio.duration, 4),
                        "text": training_text(utterance, self.text_form),
                        "speaker": utterance.speaker_id,
                    }
                )
            write_text(out / split_name / "manifest.jsonl", json_lines(rows))
