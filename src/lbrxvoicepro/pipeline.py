"""``VoicePipeline``: the Python entry point from the original design.

pipeline = VoicePipeline()
transcript = await pipeline.transcribe("nagranie.wav")
transcript = pipeline.transcribe_sync(numpy_samples_16k)
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from lbrxvoicepro.asr import Transcriber
from lbrxvoicepro.audio import AudioSource, load
from lbrxvoicepro.config import Settings, load_settings
from lbrxvoicepro.runtime import ModelManager
from lbrxvoicepro.types import Transcript


class VoicePipeline:
    """Transcribes paths, bytes, file objects, ``Audio`` or 16 kHz numpy arrays."""

    def __init__(self, settings: Settings | None = None, models: ModelManager | None = None):
        self.settings = settings or load_settings()
        self.models = models or ModelManager(self.settings)

    def transcribe_sync(
        self, audio: AudioSource, language: str | None = None, model: str | None = None
    ) -> Transcript:
        return self._transcriber(model).transcribe(load(audio), language)

    def transcribe_batch_sync(
        self, audios: Sequence[AudioSource], language: str | None = None, model: str | None = None
    ) -> list[Transcript]:
        """Many inputs decoded in shared batches: higher throughput than one by one."""
        return self._transcriber(model).transcribe_batch([load(a) for a in audios], language)

    async def transcribe(
        self, audio: AudioSource, language: str | None = None, model: str | None = None
    ) -> Transcript:
        return await asyncio.to_thread(self.transcribe_sync, audio, language, model)

    async def transcribe_batch(
        self, audios: Sequence[AudioSource], language: str | None = None, model: str | None = None
    ) -> list[Transcript]:
        return await asyncio.to_thread(self.transcribe_batch_sync, audios, language, model)

    def _transcriber(self, model: str | None) -> Transcriber:
        asr = self.settings.asr
        if model is not None:
            asr = asr.model_copy(update={"model": model})
        return self.models.transcriber(asr)
