"""Native engines are run once in a child process before a test uses them in pytest's own
process: a segfault there fails the tests that need that engine, naming it and its version,
instead of killing the whole run (``lbrxvoicepro doctor``'s checks do the running)."""

from __future__ import annotations

from typing import Any

import pytest

from lbrxvoicepro.config import Settings
from lbrxvoicepro.runtime import ModelManager
from lbrxvoicepro.runtime.health import CheckResult, run_checks

_checked: dict[str, CheckResult] = {}


def require_engine(name: str, settings: Settings) -> None:
    if name not in _checked:
        [_checked[name]] = run_checks(settings, [name])
    result = _checked[name]
    if result.crashed:
        pytest.fail(
            f"{result.detail}, in a child process, on: {result.task}; fix: {result.fix}",
            pytrace=False,
        )


class CrashCheckedModels(ModelManager):
    """The shared test models; each engine is crash-checked before its first use here."""

    def whisper(self, *args: Any, **kwargs: Any) -> Any:
        require_engine("whisper", self.settings)
        return super().whisper(*args, **kwargs)

    def vad(self) -> Any:
        require_engine("vad", self.settings)
        return super().vad()

    def synthesizer(self, voice: str | None = None) -> Any:
        backend = (voice or self.settings.tts.voice).partition(":")[0]
        if backend in ("espeak", "piper"):
            require_engine(backend, self.settings)
        return super().synthesizer(voice)

    def embedder(self) -> Any:
        require_engine("embedder", self.settings)
        return super().embedder()
