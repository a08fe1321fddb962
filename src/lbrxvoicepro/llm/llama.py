"""Embedded llama.cpp (``llama-cpp-python``): a GGUF model in this process, no server needed."""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import threading
from collections.abc import Generator, Iterator, Sequence
from pathlib import Path
from typing import Any

from lbrxvoicepro.errors import BackendNotInstalled, LLMError, ModelLoadError
from lbrxvoicepro.llm.base import ChatMessage, until_it_repeats

_log = logging.getLogger(__name__)
_GGML_LOG_ERROR = 4  # GGML_LOG_LEVEL_ERROR in the ggml.h that llama-cpp-python builds
_native_log_callback: Any = None


def _route_native_logs(llama_cpp: Any) -> None:
    """llama.cpp's own messages go to this module's logger, errors as errors and the rest as
    debug: llama-cpp-python maps the current log levels wrongly and prints warnings (e.g. about
    the SWA cache) to the terminal even with ``verbose=False``."""
    global _native_log_callback
    if _native_log_callback is not None:
        return

    @llama_cpp.llama_log_callback
    def forward(level: int, text: bytes, _user_data: ctypes.c_void_p) -> None:
        message = text.decode("utf-8", errors="replace").rstrip()
        if message:
            _log.log(logging.ERROR if level == _GGML_LOG_ERROR else logging.DEBUG, message)

    _native_log_callback = forward
    llama_cpp.llama_log_set(forward, ctypes.c_void_p(0))


class LlamaCppChatModel:
    def __init__(self, model_path: Path, context_tokens: int = 4096, threads: int = 0) -> None:
        try:
            import llama_cpp
            from llama_cpp import Llama
        except ImportError as error:
            raise BackendNotInstalled.extra("llama-cpp", "llm") from error
        _route_native_logs(llama_cpp)
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
        # A GGUF without a chat template is a base model: it was never trained on turn markers
        # (and llama.cpp's stand-in templates, e.g. Gemma's, drop the system message that
        # carries the passages), so it is prompted with a plain-text transcript instead.
        self.base_model = "tokenizer.chat_template" not in self._llama.metadata
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
        with (
            self._lock,
            contextlib.closing(self._deltas(messages, max_tokens, temperature)) as deltas,
        ):
            try:
                yield from until_it_repeats(deltas)
            except (ValueError, RuntimeError) as error:
                raise LLMError(f"{self.name}: generation failed: {error}") from error

    def _deltas(
        self, messages: Sequence[ChatMessage], max_tokens: int, temperature: float
    ) -> Generator[str, None, None]:
        if self.base_model:
            yield from self._complete(messages, max_tokens, temperature)
            return
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

    def _complete(
        self, messages: Sequence[ChatMessage], max_tokens: int, temperature: float
    ) -> Iterator[str]:
        events = self._llama.create_completion(
            transcript(messages),
            max_tokens=max_tokens,
            temperature=temperature,
            stop=TRANSCRIPT_STOPS,
            stream=True,
        )
        started = False
        for event in events:
            text = str(event["choices"][0]["text"])  # type: ignore[index]
            if not started:
                text = text.lstrip()
                started = bool(text)
            if text:
                yield text


TRANSCRIPT_STOPS = ["\n\n", "\nQ:", "\nA:"]
"""A base model's answer ends at a blank line or where it writes the next turn itself."""


def transcript(messages: Sequence[ChatMessage]) -> str:
    """The conversation as plain text that a base model continues with the answer: the system
    text, then ``Q:`` / ``A:`` turns, ending with an open ``A:``."""
    lines = []
    for message in messages:
        if message.role == "system":
            lines.append(f"{message.content}\n")
        elif message.role == "user":
            lines.append(f"Q: {message.content}")
        else:
            lines.append(f"A: {message.content}\n")
    return "\n".join(lines) + "\nA:"
