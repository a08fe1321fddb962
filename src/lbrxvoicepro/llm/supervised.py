"""Embedded llama.cpp in a supervised child process: a native crash or hang costs one answer.

llama.cpp runs native code on every token; a segmentation fault there (one release of
llama-cpp-python did this on some CPUs, see docs/models.md) would otherwise take the whole
server, every open stream and the CLI down with it. Here the model lives in
``lbrxvoicepro.llm.worker``; when that process dies or stops answering, the request in flight
gets an ``LLMUnavailable`` naming the engine, its version and the signal, and a fresh process
is started for the next one.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import json
import queue
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO, Any

from lbrxvoicepro.errors import BackendNotInstalled, LLMError, LLMUnavailable, ModelLoadError
from lbrxvoicepro.llm.base import ChatMessage

LOAD_TIMEOUT_S = 300.0
"""Loading a GGUF from a cold disk on a busy machine."""


def engine_name() -> str:
    """``llama.cpp (llama-cpp-python X)``, for messages, without importing the native library."""
    try:
        return f"llama.cpp (llama-cpp-python {importlib.metadata.version('llama-cpp-python')})"
    except importlib.metadata.PackageNotFoundError:
        raise BackendNotInstalled.extra("llama-cpp", "llm") from None


def describe_exit(returncode: int) -> str:
    """``SIGSEGV``-style for a signal, ``exit code N`` otherwise."""
    if returncode < 0:
        with contextlib.suppress(ValueError):
            return signal.Signals(-returncode).name
        return f"signal {-returncode}"
    return f"exit code {returncode}"


class _Child:
    """One worker process and a thread that hands its output lines over as they come."""

    def __init__(self, model_path: Path, context_tokens: int, threads: int) -> None:
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "lbrxvoicepro.llm.worker",
                str(model_path),
                str(context_tokens),
                str(threads),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            encoding="utf-8",
        )
        self.ready: dict[str, Any] | None = None
        self._lines: queue.Queue[dict[str, Any] | None] = queue.Queue()
        assert self.process.stdout is not None
        threading.Thread(target=self._read, args=(self.process.stdout,), daemon=True).start()

    def _read(self, stdout: IO[str]) -> None:
        with contextlib.suppress(ValueError):  # a line cut short by the process's death
            for line in stdout:
                self._lines.put(json.loads(line))
        self._lines.put(None)

    def send(self, message: dict[str, Any]) -> bool:
        """False when the process is gone (its death is reported by ``receive``)."""
        assert self.process.stdin is not None
        try:
            self.process.stdin.write(json.dumps(message, ensure_ascii=False) + "\n")
            self.process.stdin.flush()
            return True
        except (BrokenPipeError, OSError, ValueError):
            return False

    def receive(self, timeout: float) -> dict[str, Any] | None:
        """The next message; None when the process died; ``queue.Empty`` after ``timeout``."""
        return self._lines.get(timeout=timeout)

    def kill(self) -> int:
        with contextlib.suppress(ProcessLookupError):
            self.process.kill()
        return self.process.wait()


class SupervisedChatModel:
    """A ``ChatModel`` whose llama.cpp runs in a child process that is restarted when it dies."""

    def __init__(
        self, model_path: Path, context_tokens: int = 4096, threads: int = 0, timeout_s: float = 120
    ) -> None:
        self.model_path = Path(model_path)
        self.engine = engine_name()
        self._args = (self.model_path, context_tokens, threads)
        self._context_tokens = context_tokens
        self._timeout_s = timeout_s
        self._lock = threading.Lock()  # one answer at a time, as one llama.cpp context allows
        self._requests = 0
        self._child = _Child(*self._args)
        self.base_model = bool(self._started(self._child)["base_model"])
        """The GGUF has no chat template: it is prompted with a plain Q:/A: transcript."""

    @property
    def name(self) -> str:
        return self.model_path.name

    @property
    def context_tokens(self) -> int:
        return self._context_tokens

    @property
    def pid(self) -> int:
        """The worker process now serving (a new one after a crash)."""
        return self._child.process.pid

    def count_tokens(self, text: str) -> int:
        with self._lock:
            child = self._running_child()
            child.send({"op": "count", "text": text})
            return int(self._next(child, "counting tokens")["count"])

    def stream(
        self, messages: Sequence[ChatMessage], max_tokens: int, temperature: float
    ) -> Iterator[str]:
        with self._lock:
            child = self._running_child()
            self._requests += 1
            request = self._requests
            child.send(
                {
                    "op": "stream",
                    "id": request,
                    "messages": [[m.role, m.content] for m in messages],
                    "max_tokens": max_tokens,
                    "temperature": temperature,
                }
            )
            finished = False
            try:
                while True:
                    message = self._next(child, "answering")
                    if "delta" in message:
                        yield str(message["delta"])
                        continue
                    finished = True
                    if "error" in message:
                        raise LLMError(str(message["error"]))
                    return
            finally:
                if not finished and child is self._child:
                    self._stop(child, request)

    def close(self) -> None:
        with self._lock:
            self._child.kill()

    def _stop(self, child: _Child, request: int) -> None:
        """The consumer left mid-answer: end that answer in the child and wait for its end."""
        child.send({"op": "stop", "id": request})
        with contextlib.suppress(LLMUnavailable):
            while "delta" in self._next(child, "stopping an answer"):
                pass

    def _running_child(self) -> _Child:
        if self._child.process.poll() is not None:
            self._child = _Child(*self._args)
        self._started(self._child)
        return self._child

    def _started(self, child: _Child) -> dict[str, Any]:
        if child.ready is None:
            message = self._next(child, "loading the model", LOAD_TIMEOUT_S)
            if "error" in message:
                child.kill()
                raise ModelLoadError(str(message["error"]))
            child.ready = message["ready"]
        return child.ready

    def _next(self, child: _Child, doing: str, timeout: float | None = None) -> dict[str, Any]:
        """The child's next message; its death or silence becomes ``LLMUnavailable``, and a
        fresh child is started (it loads while the error travels back)."""
        timeout = timeout or self._timeout_s
        try:
            message = child.receive(timeout)
        except queue.Empty:
            child.kill()
            what = f"stopped answering (no output in {timeout:.0f} s) while {doing}"
        else:
            if message is not None:
                return message
            what = f"crashed ({describe_exit(child.kill())}) while {doing}"
        if child is self._child:
            self._child = _Child(*self._args)
        raise LLMUnavailable(
            f"{self.engine} {what} with {self.name}; it was restarted for the next request"
        )
