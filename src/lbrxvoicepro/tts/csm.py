"""Sesame CSM-1B: conversational speech from text, a speaker id and earlier turns.

Runs through Hugging Face transformers (``CsmForConditionalGeneration`` + its processor, on CPU
or CUDA) from a local model directory, or through csm-mlx on Apple Silicon from a local
``.safetensors`` checkpoint. Weights are never downloaded here: pass the path you have.
"""

from __future__ import annotations

import platform
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from lbrxvoicepro.audio import resample
from lbrxvoicepro.errors import BackendNotInstalled, ModelLoadError, ModelNotFound
from lbrxvoicepro.tts.base import SentenceSynthesizer
from lbrxvoicepro.types import Audio

SAMPLE_RATE = 24000
FRAME_RATE = 12.5


@dataclass(frozen=True)
class ContextSegment:
    """An earlier turn of the conversation: what was said, by whom, and how it sounded."""

    text: str
    speaker: int
    audio: Audio


def usable_frames(codes: np.ndarray, eos_id: int, codebook_size: int) -> np.ndarray:
    """Frames (time x codebooks) up to the end of audio.

    Generation ends with an all-``eos_id`` frame; a frame holding an id the codec cannot decode
    (padding or end markers, >= ``codebook_size``) also ends the audio, as real CSM output does.
    """
    ends = np.flatnonzero((codes == eos_id).all(axis=1) | (codes >= codebook_size).any(axis=1))
    return codes[: ends[0]] if len(ends) else codes


class CSMSynthesizer(SentenceSynthesizer):
    """``CSMSynthesizer("/models/csm-1b", speaker=0)``; ``await tts.synthesize(text)``."""

    def __init__(
        self,
        model_path: str | Path,
        speaker: int = 0,
        context: Sequence[ContextSegment] = (),
        language: str = "pl",
        device: str = "cpu",
        max_seconds: float = 20.0,
        temperature: float = 0.9,
        top_k: int = 50,
    ) -> None:
        path = Path(model_path).expanduser()
        if not path.exists():
            raise ModelNotFound(
                f"{path}: no CSM model there (a transformers directory, or a "
                "csm-mlx .safetensors checkpoint on Apple Silicon)"
            )
        self.speaker = speaker
        self.context = list(context)
        self.language = language
        self.max_frames = int(max_seconds * FRAME_RATE)
        self.temperature = temperature
        self.top_k = top_k
        if path.suffix == ".safetensors":
            self._engine: _Engine = _MlxEngine(path)
        else:
            self._engine = _TransformersEngine(path, device)

    @property
    def sample_rate(self) -> int:
        return SAMPLE_RATE

    def _render(self, sentence: str) -> np.ndarray:
        audio = self._engine.generate(self, sentence)
        return np.asarray(audio, dtype=np.float32).reshape(-1)


class _Engine:
    def generate(self, owner: CSMSynthesizer, text: str) -> np.ndarray:
        raise NotImplementedError


class _TransformersEngine(_Engine):
    def __init__(self, path: Path, device: str) -> None:
        try:
            import torch
            from transformers import AutoProcessor, CsmForConditionalGeneration
            from transformers.utils import logging
        except ImportError as error:
            raise BackendNotInstalled.extra("csm", "csm") from error
        logging.disable_progress_bar()
        logging.set_verbosity_error()
        try:
            self.processor: Any = AutoProcessor.from_pretrained(path)
            self.model: Any = CsmForConditionalGeneration.from_pretrained(path).to(device).eval()
        except (OSError, ValueError) as error:
            raise ModelLoadError(f"{path}: cannot load CSM: {error}") from error
        self.torch = torch
        self.device = device

    def generate(self, owner: CSMSynthesizer, text: str) -> np.ndarray:
        tokenizer = self.processor.tokenizer
        turns = [(c.speaker, c.text) for c in owner.context] + [(owner.speaker, text)]
        prompt = "".join(
            f"{tokenizer.bos_token}[{speaker}]{said}{tokenizer.eos_token}"
            + ("<|AUDIO|><|audio_eos|>" if index < len(owner.context) else "")
            for index, (speaker, said) in enumerate(turns)
        )
        audio = [resample(c.audio, SAMPLE_RATE).samples for c in owner.context] or None
        inputs = self.processor(
            text=prompt, audio=audio, add_special_tokens=False, return_tensors="pt"
        ).to(self.device)
        config = self.model.config
        with self.torch.inference_mode():
            codes = self.model.generate(
                **inputs,
                output_audio=False,
                max_new_tokens=owner.max_frames,
                do_sample=True,
                temperature=owner.temperature,
                top_k=owner.top_k,
            )
            frames = usable_frames(
                codes[0].cpu().numpy(),
                config.codebook_eos_token_id,
                config.codec_config.codebook_size,
            )
            if len(frames) == 0:
                return np.zeros(0, dtype=np.float32)
            decoded = self.model.codec_model.decode(
                self.torch.from_numpy(frames).T.unsqueeze(0).to(self.device)
            )
        return decoded.audio_values[0, 0].float().cpu().numpy()


class _MlxEngine(_Engine):
    """csm-mlx on Apple Silicon (``pip install csm-mlx``); its checkpoint is one file."""

    def __init__(self, path: Path) -> None:
        if platform.system() != "Darwin" or platform.machine() != "arm64":
            raise ModelLoadError(
                f"{path}: a .safetensors CSM checkpoint runs on Apple Silicon "
                "(csm-mlx); elsewhere give a transformers model directory"
            )
        try:
            import mlx.core as mx
            from csm_mlx import CSM, Segment, csm_1b, generate
            from mlx_lm.sample_utils import make_sampler
        except ImportError as error:
            raise BackendNotInstalled(
                "csm-mlx", "pip install mlx-lm git+https://github.com/senstella/csm-mlx"
            ) from error
        self.model = CSM(csm_1b())
        self.model.load_weights(str(path))
        self.mx, self.segment, self.run, self.sampler = mx, Segment, generate, make_sampler

    def generate(self, owner: CSMSynthesizer, text: str) -> np.ndarray:
        context = [
            self.segment(
                speaker=c.speaker,
                text=c.text,
                audio=self.mx.array(resample(c.audio, SAMPLE_RATE).samples),
            )
            for c in owner.context
        ]
        audio = self.run(
            self.model,
            text=text,
            speaker=owner.speaker,
            context=context,
            max_audio_length_ms=int(1000 * owner.max_frames / FRAME_RATE),
            sampler=self.sampler(temp=owner.temperature, top_k=owner.top_k),
        )
        return np.asarray(audio, dtype=np.float32)
