"""One model manager: every model is loaded once and shared by CLI, server and pipelines."""

from __future__ import annotations

import gc
import importlib.util
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, TypeVar

from lbrxvoicepro.config import AsrSettings, Settings
from lbrxvoicepro.errors import BackendNotInstalled, ModelLoadError
from lbrxvoicepro.models import ModelCatalog

if TYPE_CHECKING:
    from lbrxvoicepro.asr import Transcriber
    from lbrxvoicepro.kb import KnowledgeBase
    from lbrxvoicepro.kb.embeddings import Embedder
    from lbrxvoicepro.llm import ChatModel
    from lbrxvoicepro.tts import SentenceSynthesizer
    from lbrxvoicepro.vad import SileroVAD
    from lbrxvoicepro.vad.turn import SmartTurn

T = TypeVar("T")


class ModelManager:
    """Loads each model once and keeps it for the manager's life.

    A long-running server passes ``freeze_after_load``: after each load, everything still alive (the
    modules and models just loaded: ~100,000 Python objects with the knowledge-base stack) is
    moved out of the garbage collector's reach with ``gc.freeze``, so its full collections no
    longer rescan them. Each such rescan stopped every thread for ~50 ms under load.
    """

    def __init__(self, settings: Settings, freeze_after_load: bool = False) -> None:
        _blas_on_one_thread()
        self.settings = settings
        self.freeze_after_load = freeze_after_load
        self.catalog = ModelCatalog(settings.cache_dir)
        self._loaded: dict[tuple[Any, ...], Any] = {}
        self._lock = threading.RLock()

    def whisper(
        self,
        name: str,
        device: str,
        compute_type: str,
        cpu_threads: int,
        min_window_s: float = 30.0,
        window_per_audio: float = 0.0,
    ) -> Any:
        """A faster-whisper ``WhisperModel`` (with the encoder window fitted to the audio, down to
        ``min_window_s``, or ``window_per_audio`` times short audio); the same object for the
        same arguments."""

        def load() -> Any:
            from lbrxvoicepro.asr.window import WindowedWhisperModel

            path = self.catalog.resolve(name, "whisper")
            try:
                # Built off the main thread: CTranslate2 then decodes about 1.5x faster on CPU
                # (measured in bench/asr.py; see BENCHMARKS.md).
                with ThreadPoolExecutor(max_workers=1) as pool:
                    return pool.submit(
                        WindowedWhisperModel,
                        str(path),
                        device=device,
                        compute_type=compute_type,
                        cpu_threads=cpu_threads,
                        min_window_s=min_window_s,
                        window_per_audio=window_per_audio,
                    ).result()
            except (RuntimeError, ValueError, OSError) as error:
                raise ModelLoadError(
                    f"{name}: cannot load Whisper model at {path}: {error}"
                ) from error

        key = ("whisper", name, device, compute_type, cpu_threads, min_window_s, window_per_audio)
        return self._get(key, load)

    def vad(self) -> SileroVAD:
        from lbrxvoicepro.vad import SileroVAD

        return self._get(("vad",), lambda: SileroVAD(self.catalog.resolve("silero-vad", "vad")))

    def turn_detector(self, name: str) -> SmartTurn:
        """The end-of-turn model (``conversation.turn_model``)."""
        from lbrxvoicepro.vad.turn import SmartTurn

        return self._get(("turn", name), lambda: SmartTurn(self.catalog.resolve(name, "turn")))

    def transcriber(self, asr: AsrSettings | None = None) -> Transcriber:
        """The configured ``Transcriber``, built on shared models."""
        from lbrxvoicepro.asr.whisper import FasterWhisperTranscriber
        from lbrxvoicepro.text.spelling import load_in_background

        asr = asr or self.settings.asr
        if asr.remote_url:
            from lbrxvoicepro.runtime.remote import RemoteTranscriber

            return self._get(
                ("remote-asr", asr.remote_url, asr.language),
                lambda: RemoteTranscriber(asr.remote_url, self.settings.server, asr.language),
            )
        if asr.language in asr.spelling_languages:
            load_in_background(asr.language)
        model = self.whisper(
            asr.model,
            asr.device,
            asr.compute_type,
            asr.cpu_threads,
            asr.min_window_s,
            asr.window_per_audio,
        )
        vad = self.vad() if asr.vad_gate else None
        return FasterWhisperTranscriber(model, vad, asr, self.settings.vad)

    def synthesizer(self, voice: str | None = None) -> SentenceSynthesizer:
        """A speech synthesizer for a voice spec (default: the configured voice), shared."""
        from lbrxvoicepro.tts import create_synthesizer

        voice = voice or self.settings.tts.voice
        if url := self.settings.tts.remote_url:
            from lbrxvoicepro.runtime.remote import RemoteSynthesizer

            return self._get(
                ("remote-tts", url, voice),
                lambda: RemoteSynthesizer(url, self.settings.server, voice),
            )
        return self._get(("tts", voice), lambda: create_synthesizer(voice))

    def embedder(self) -> Embedder:
        """The knowledge-base embedding model (exported to ONNX once, then cached)."""
        _require_extra("tokenizers", "knowledge base", "kb")
        from lbrxvoicepro.kb.embeddings import OnnxEmbedder

        kb = self.settings.kb
        return self._get(
            ("embedder", kb.embedding_model, kb.embedding_precision),
            lambda: OnnxEmbedder(
                self.catalog.resolve(kb.embedding_model, "embedding"),
                self.settings.cache_dir,
                kb.embedding_precision,
            ),
        )

    def knowledge_base(self, name: str | None = None) -> KnowledgeBase:
        """A knowledge base by name (default: ``kb.default``), opened once and shared."""
        for module in ("snowballstemmer", "bm25s"):
            _require_extra(module, "knowledge base", "kb")
        from lbrxvoicepro.kb.base import KnowledgeBase, open_store

        kb = self.settings.kb
        name = name or kb.default
        return self._get(
            ("kb", name),
            lambda: KnowledgeBase(name, open_store(name, kb), self.embedder(), kb),
        )

    def chat_model(self) -> ChatModel:
        """The configured language model: an OpenAI-compatible server, or embedded llama.cpp
        in a supervised child process (a native crash there fails one answer, not the caller)."""
        llm = self.settings.llm

        def load() -> ChatModel:
            _require_extra("openai", llm.backend, "llm")
            if llm.backend == "openai":
                from lbrxvoicepro.llm.openai_http import OpenAIChatModel

                return OpenAIChatModel(llm)
            from lbrxvoicepro.llm.supervised import SupervisedChatModel

            path = self.catalog.resolve(llm.model, "llm")
            if llm.trim_vocabulary:
                from lbrxvoicepro.llm.vocabulary import trimmed

                path = trimmed(path, self.settings.cache_dir / "trimmed")
            return SupervisedChatModel(path, llm.context_tokens, llm.threads, llm.timeout_s)

        return self._get(("llm", llm.backend, llm.model, llm.base_url), load)

    def unload(self) -> None:
        """Drops every model; those that hold threads or connections (a ``close`` method, like
        knowledge bases) are closed."""
        with self._lock:
            loaded = list(self._loaded.values())
            self._loaded.clear()
        for model in loaded:
            if (close := getattr(model, "close", None)) is not None:
                close()

    def _get(self, key: tuple[Any, ...], load: Callable[[], T]) -> T:
        with self._lock:
            if key not in self._loaded:
                self._loaded[key] = load()
                if self.freeze_after_load:
                    gc.collect()
                    gc.freeze()
            return self._loaded[key]  # type: ignore[no-any-return]


def _blas_on_one_thread() -> None:
    """numpy's OpenBLAS keeps its idle threads spinning after each product it shares out
    (Whisper's mel filter bank is one), and they take the cores that CTranslate2, ONNX Runtime
    and the LLM's process need next: on two cores a 0.9 s clip decoded in 0.20 s beside them and
    in 0.12 s without (BENCHMARKS.md). The models thread themselves; numpy's products are small.
    """
    import numpy  # noqa: F401  (its BLAS must be loaded to be limited)
    from threadpoolctl import threadpool_limits

    threadpool_limits(1, user_api="blas")


def _require_extra(module: str, backend: str, extra: str) -> None:
    if importlib.util.find_spec(module) is None:
        raise BackendNotInstalled.extra(backend, extra)
