"""Embedded llama.cpp (``llama-cpp-python``): a GGUF model in this process, no server needed."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from lbrxvoicepro.errors import BackendNotInstalled, LLMError, ModelLoadError
from lbrxvoicepro.llm.base import ChatMessage


class LlamaCppChatModel:
    def __init__(self, model_path: Path, context_tokens: int = 4096, threads: int = 0) -> None:
        try:
            from llama_cpp import Llama
        except ImportError as error:
            raise BackendNotInstalled.extra("llama-cpp", "llm") from error
        self.model_path = Path(model_path)
        try:
            self._llama = Llama(
                model_path=str(model_path),
                n_ctx=context_tokens,
                n_threads=threads or os.cpu_count(),
                verbose=False,
            )
        except (ValueError, RuntimeError) as error:
            raise ModelLoadError(f"{model_path}: llama.cpp cannot load it: {error}") from error
        metadata = self._llama.metadata
        if "tokenizer.chat_template" not in metadata and metadata.get(
            "general.architecture", ""
        ).startswith("gemma"):
            # A base Gemma GGUF carries no chat template; llama.cpp would fall back to Llama 2's.
            self._llama.chat_format = "gemma"
        self._context_tokens = context_tokens
        self._lock = threading.Lock()  # one llama.cpp context generates one answer at a time

    @property
    def name(self) -> str:
        return self.model_path.name

    @property
    def context_tokens(self) -> int:
        return self._context_tokens

    def count_tokens(self, text: str) -> int:
        return len(self._llama.tokenize(text.encode(), add_bos=False, special=False))

    def stream(
        self, messages: Sequence[ChatMessage], max_tokens: int, temperature: float
    ) -> Iterator[str]:
        with self._lock:
            try:
                events = self._llama.create_chat_completion(
                    messages=[{"role": m.role, "content": m.content} for m in messages],  # type: ignore[misc]
                    max_tokens=max_tokens,
                    temperature=temperature,
                    stream=True,
                )
                for event in events:
                    delta: dict[str, Any] = event["choices"][0]["delta"]  # type: ignore[index,assignment]
                    if delta.get("content"):
                        yield str(delta["content"])
            except (ValueError, RuntimeError) as error:
                raise LLMError(f"{self.name}: generation failed: {error}") from error
