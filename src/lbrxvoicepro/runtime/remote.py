"""Recognition and synthesis done by worker processes over HTTP (``serve --role asr|tts``).

An API process with ``asr.remote_url`` or ``tts.remote_url`` set gets these from the model
manager instead of local models, so every consumer (the REST routes, streams, conversations,
the pipeline) forwards without knowing. The URL is one worker or a load balancer in front of
several (HAProxy: docs/deploy.md), which also retries a request on another worker when one
dies. Workers are called with a short-lived token signed with the shared ``server.jwt_secret``
(no credentials when the worker runs without auth, on loopback).
"""

from __future__ import annotations

import functools
import io
from collections.abc import Callable, Iterator, Sequence

import httpx
import numpy as np

from lbrxvoicepro.audio import encode
from lbrxvoicepro.config import ServerSettings
from lbrxvoicepro.errors import LbrxError, SynthesisError
from lbrxvoicepro.tts.base import SentenceSynthesizer
from lbrxvoicepro.types import Audio, Segment, Transcript, Word

TIMEOUT = httpx.Timeout(300.0, connect=5.0)
RETRIES = 2
"""Connection attempts beyond the first (a worker restarting, a balancer's backend gone)."""


class WorkerError(LbrxError):
    """A worker answered with an error or could not be reached (HTTP 502 at the edge)."""


class _Worker:
    def __init__(self, url: str, server: ServerSettings) -> None:
        self.url = url.rstrip("/")
        self.server = server
        self.client = httpx.Client(timeout=TIMEOUT, transport=httpx.HTTPTransport(retries=RETRIES))

    def headers(self) -> dict[str, str]:
        if not (self.server.auth and self.server.jwt_secret):
            return {}
        from lbrxvoicepro.server.auth import FORWARDING, issue_token

        return {"Authorization": f"Bearer {issue_token(self.server, FORWARDING, 'user', 300)}"}

    def post(self, path: str, **kwargs: object) -> httpx.Response:
        try:
            response = self.client.post(f"{self.url}{path}", headers=self.headers(), **kwargs)  # type: ignore[arg-type]
        except httpx.HTTPError as error:
            raise WorkerError(f"{self.url}{path}: {type(error).__name__}: {error}") from error
        if response.status_code >= 400:
            raise WorkerError(
                f"{self.url}{path}: HTTP {response.status_code}: {response.text[:300]}"
            )
        return response


class RemoteTranscriber:
    """``Transcriber`` over an ASR worker's ``/v1/audio/transcriptions`` (verbose JSON with
    word times)."""

    def __init__(self, url: str, server: ServerSettings, language: str) -> None:
        self.worker = _Worker(url, server)
        self.language = language

    def transcribe(
        self,
        audio: Audio,
        language: str | None = None,
        on_segment: Callable[[Segment], None] | None = None,
    ) -> Transcript:
        wav = io.BytesIO()
        encode(audio, wav, "wav")
        fields = {"response_format": "verbose_json", "timestamp_granularities[]": "word"}
        chosen = language or self.language
        if chosen and chosen != "auto":
            fields["language"] = chosen
        body = self.worker.post(
            "/v1/audio/transcriptions",
            files={"file": ("speech.wav", wav.getvalue(), "audio/wav")},
            data=fields,
        ).json()
        transcript = _transcript(body)
        if on_segment:
            for segment in transcript.segments:
                on_segment(segment)
        return transcript

    def transcribe_batch(
        self, audios: Sequence[Audio], language: str | None = None
    ) -> list[Transcript]:
        return [self.transcribe(audio, language) for audio in audios]

    def transcribe_each(
        self,
        audios: Sequence[Audio],
        language: str | None = None,
        on_segment: Callable[[int, Segment], None] | None = None,
    ) -> Iterator[tuple[int, Transcript]]:
        for index, audio in enumerate(audios):
            heard = functools.partial(on_segment, index) if on_segment else None
            yield index, self.transcribe(audio, language, heard)


def _transcript(body: dict) -> Transcript:  # type: ignore[type-arg]
    words = [
        Word(f" {w['word']}", w["start"], w["end"], w.get("probability", 1.0))
        for w in body.get("words", [])
    ]
    segments = []
    for s in body["segments"]:
        inside = tuple(w for w in words if s["start"] <= (w.start + w.end) / 2 <= s["end"])
        confidence = (s["avg_logprob"], s["no_speech_prob"], s.get("compression_ratio", 0.0))
        segments.append(Segment(s["start"], s["end"], s["text"], inside, *confidence))
    return Transcript(body["text"], tuple(segments), body["language"], 1.0, body["duration"])


class RemoteSynthesizer(SentenceSynthesizer):
    """A voice of a TTS worker, sentence by sentence over its ``/v1/audio/speech`` (16-bit
    PCM; the rate from its ``X-Sample-Rate``)."""

    def __init__(self, url: str, server: ServerSettings, voice: str) -> None:
        self.worker = _Worker(url, server)
        self.voice = voice
        self.language = _language_of(voice)
        self._rate = 0

    @property
    def sample_rate(self) -> int:
        if not self._rate:
            self._render("Tak.")
        return self._rate

    def _render(self, sentence: str) -> np.ndarray:
        response = self.worker.post(
            "/v1/audio/speech",
            json={"input": sentence, "voice": self.voice, "response_format": "pcm"},
        )
        rate = response.headers.get("x-sample-rate", "")
        if not rate.isdigit():
            raise SynthesisError(f"{self.worker.url}: the worker sent no X-Sample-Rate")
        self._rate = int(rate)
        return np.frombuffer(response.content, "<i2").astype(np.float32) / 32768


def _language_of(voice: str) -> str:
    """The language a voice spec names ('espeak:en-us', 'piper:pl_PL-gosia-medium'), for the
    text normalization done here; Polish when it names none."""
    argument = voice.partition(":")[2]
    code = argument[:2].lower()
    if code.isalpha() and (len(argument) == 2 or argument[2:3] in ("-", "_")):
        return code
    return "pl"
