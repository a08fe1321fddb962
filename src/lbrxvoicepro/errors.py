"""One exception tree: everything the project raises on purpose is an ``LbrxError``.

The CLI turns these into a one-line message and a non-zero exit code; the server maps them to
HTTP status codes in one handler.
"""

from __future__ import annotations


class LbrxError(Exception):
    """Base of every error the project raises on purpose."""


class ConfigError(LbrxError):
    """A setting has a value the project cannot use."""


class InputError(LbrxError):
    """One input could not be used: names it and says why, so a batch job can go on."""

    def __init__(self, source: str, reason: str) -> None:
        super().__init__(f"{source}: {reason}")
        self.source = source
        self.reason = reason


class AudioDecodeError(InputError):
    """Input could not be read as audio."""


class AudioTooLarge(AudioDecodeError):
    """Input whose decoded audio would be over a configured cap (refused before decoding)."""


class UnknownLanguage(LbrxError):
    """A language code the model does not know (HTTP 422)."""


class ModelNotFound(LbrxError):
    """A model name, path or hub id could not be resolved to usable files."""


class ModelLoadError(LbrxError):
    """Model files were found but the backend could not load them."""


class SynthesisError(LbrxError):
    """Text could not be turned into speech (nothing speakable, bad voice, engine failure)."""


class BackendNotInstalled(LbrxError):
    """An optional backend's extra is not installed; the message names the pip command."""

    def __init__(self, backend: str, install: str) -> None:
        super().__init__(f"the {backend!r} backend is not installed: {install}")
        self.backend = backend
        self.install = install

    @classmethod
    def extra(cls, backend: str, extra: str) -> BackendNotInstalled:
        return cls(backend, f"pip install 'lbrxvoicepro[{extra}]'")


class DocumentError(InputError):
    """A document could not be added to a knowledge base."""


class KnowledgeBaseError(LbrxError):
    """A knowledge base is missing, or was built in a way this configuration cannot search."""


class LLMError(LbrxError):
    """The language model could not be reached or failed to answer."""


class PromptTooLong(LLMError):
    """The messages leave no room for an answer in the model's context window (HTTP 400)."""


class EngineCrashed(LbrxError):
    """A native engine's process died (a signal such as SIGSEGV) or stopped answering. The
    message names the engine and its version; the process is restarted for the next request."""


class LLMUnavailable(LLMError, EngineCrashed):
    """The embedded language model's process crashed or hung while answering."""
