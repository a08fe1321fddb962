"""One decoder for every live stream: requests from all connections decoded together in
batches, the most urgent first, at a quality that steps down under load before latency grows.

Streams used to decode each utterance in a thread of its own, all competing for the same
cores, so finals queued behind one another and behind partials, and the work of clients that
had gone stayed queued. Now every stream's requests go into one queue; a single worker
thread takes the most urgent request and every other one it can decode with it (same kind,
language and encoder window), up to the batch size and half the latency budget of estimated
decoding (a batch cannot be stopped once started), and decodes them with faster-whisper's
batched pipeline. A request is always decoded that way, alone or not, at the window of its
length bucket, so the text a request gets does not depend on which others shared its batch.
Batches share each encoder and decoder step (16 utterances of ~25 s: 1.3x faster than one by
one on two CPU cores; far more on a GPU).

Quality levels, chosen before each batch from the pressure: the larger of the queued work's
decode time at full quality over the latency budget (what the newest request would wait),
and the share of the decoder the open streams would take at full quality and real-time pace:

0. full: ``asr.beam_size``, partial transcripts served;
1. pressure ≥ 0.5: partials dropped (the newest would be stale by the time it is decoded);
2. pressure ≥ 0.9: beam search off (greedy, about 1.6x cheaper per second of speech).

The level steps back up one at a time once the pressure has fallen 0.15 below the step.
Whatever the level, a final that decoded at full quality would end past 80% of the budget,
counting the time it has already waited (behind a draft in flight, or another stream's
final), is decoded greedily: the best quality that still keeps the latency promise.
Requests whose client has gone (a cancelled future) are dropped unread, so a burst of streams
that disconnect leaves no work behind them.
"""

from __future__ import annotations

import itertools
import logging
import math
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from enum import IntEnum

from lbrxvoicepro.asr.base import Transcriber
from lbrxvoicepro.asr.window import window_at_least
from lbrxvoicepro.config import AsrSettings
from lbrxvoicepro.errors import LbrxError
from lbrxvoicepro.types import Audio, Transcript

log = logging.getLogger(__name__)

STEPS = (0.5, 0.9)
"""Pressure at which quality steps down to level 1 and 2."""
HYSTERESIS = 0.15
WINDOW_STEP_S = 5
"""Encoder windows come in 5 s steps (10, 15, ... 30 s): requests of one step share a batch."""
MAX_WINDOW_S = 30
FIRST_COST = {True: 0.08, False: 0.05}
"""Decoding seconds per second of speech assumed until a batch has been measured (beam on /
off); replaced by what this machine does after the first batch."""
COST_MEMORY = 0.3
"""Weight of the newest batch in the running cost estimate."""
FULL_QUALITY_SHARE = 0.8
"""A final is decoded at full quality only if, counted from when it was queued, that would end
within this share of the latency budget: the rest is for the estimate's error (a lone 27 s
utterance: estimated 2.2 s, decoded in 2.4 s) and for what follows decoding (sending, the
client)."""


class Urgency(IntEnum):
    """Who waits for a request; lower goes first."""

    FINAL = 0
    """A stream's utterance ended: its final transcript waits for it."""
    PARTIAL = 1
    """A draft of the utterance so far, for display; dropped under load."""


class Busy(LbrxError):
    """The decoder cannot take more work within its latency budget (WebSocket 1013, HTTP 503)."""

    retry_after = 1


@dataclass(frozen=True)
class Decoded:
    """A transcript and how it was decoded."""

    transcript: Transcript
    beam_size: int
    batch: int
    """Requests decoded together, this one included."""
    level: int
    """The quality level (see the module's docstring)."""


@dataclass(frozen=True)
class BatchReport:
    """One decoded batch, for metrics."""

    size: int
    speech_s: float
    seconds: float
    level: int
    queued: int


@dataclass(eq=False)
class _Request:
    audio: Audio
    language: str | None
    urgency: Urgency
    order: int
    future: Future[Decoded] = field(default_factory=Future)
    queued_at: float = field(default_factory=time.monotonic)

    @property
    def draft(self) -> bool:
        return self.urgency is Urgency.PARTIAL

    @property
    def window_s(self) -> int:
        steps = math.ceil(self.audio.duration / WINDOW_STEP_S) * WINDOW_STEP_S
        return min(MAX_WINDOW_S, max(2 * WINDOW_STEP_S, steps))

    def key(self) -> tuple[bool, str | None, int]:
        return self.draft, self.language, self.window_s


class DecodeScheduler:
    """Thread-safe; ``submit`` from anywhere, results arrive on the returned futures."""

    def __init__(
        self,
        transcriber_for: Callable[[AsrSettings], Transcriber],
        asr: AsrSettings,
        *,
        batch_size: int = 8,
        latency_budget_s: float = 3.0,
        adaptive: bool = True,
        on_batch: Callable[[BatchReport], None] | None = None,
    ) -> None:
        self._transcriber_for = transcriber_for
        self._asr = asr
        self.batch_size = batch_size
        self.latency_budget_s = latency_budget_s
        self.adaptive = adaptive
        self.on_batch = on_batch
        self.refused = 0
        """Streams and requests turned away by ``admit`` and ``check``."""
        self._queue: list[_Request] = []
        self._orders = itertools.count()
        self._cost = dict(FIRST_COST)
        self._streams = 0
        self.level = 0
        self._ready = threading.Condition()
        self._worker: threading.Thread | None = None

    def submit(
        self, audio: Audio, language: str | None, urgency: Urgency = Urgency.FINAL
    ) -> Future[Decoded]:
        """Queue ``audio`` (16 kHz mono, at most 30 s) for decoding; cancel the future to take
        it back while it waits."""
        request = _Request(audio, language, urgency, next(self._orders))
        with self._ready:
            if request.draft and self.level >= 1:
                request.future.cancel()
                return request.future
            self._queue.append(request)
            self._start()
            self._ready.notify()
        return request.future

    def admit(self) -> None:
        """Count one more live stream, or raise ``Busy`` when it could not be served within
        the latency budget (the decoder is already behind, or would be at real-time pace)."""
        with self._ready:
            self._refuse_if_behind()
            if (self._streams + 1) * self._cost[False] > 1.0:
                self._refuse(f"{self._streams} open streams already take the decoder's time")
            self._streams += 1

    def check(self) -> None:
        """Raise ``Busy`` when queued work would take longer than the latency budget (for
        requests that are not streams, such as a file to transcribe)."""
        with self._ready:
            self._refuse_if_behind()

    def _refuse_if_behind(self) -> None:
        wait = self._wait_s()
        if wait > self.latency_budget_s:
            self._refuse(
                f"recognition queued for {wait:.1f} s (budget {self.latency_budget_s:g} s)"
            )

    def _refuse(self, why: str) -> None:
        self.refused += 1
        raise Busy(f"the server is at capacity: {why}; retry later")

    def release(self) -> None:
        """A stream counted by ``admit`` has ended."""
        with self._ready:
            self._streams = max(0, self._streams - 1)

    @property
    def queued(self) -> int:
        with self._ready:
            return len(self._queue)

    @property
    def streams(self) -> int:
        return self._streams

    def _start(self) -> None:
        if self._worker is None:
            self._worker = threading.Thread(target=self._run, name="lbrx-decoder", daemon=True)
            self._worker.start()

    def _queued_speech_s(self) -> float:
        live = (r for r in self._queue if not r.draft and not r.future.cancelled())
        return sum(r.audio.duration for r in live)

    def _wait_s(self) -> float:
        """Estimated decoding time of the queued finals at the current level."""
        return self._queued_speech_s() * self._cost[self._beam(self.level) > 1]

    def _pressure(self) -> float:
        """Load as full quality would feel it (so that the level does not change the
        measure that chooses it)."""
        full = self._cost[self._asr.beam_size > 1]
        queued = self._queued_speech_s() * full / self.latency_budget_s
        return max(queued, self._streams * full)

    def _adapt(self) -> None:
        if not self.adaptive:
            return
        pressure = self._pressure()
        wanted = sum(pressure >= step for step in STEPS)
        if wanted > self.level:
            self.level = wanted
        elif self.level > 0 and pressure < STEPS[self.level - 1] - HYSTERESIS:
            self.level -= 1
        if self.level >= 1:
            for request in [r for r in self._queue if r.draft]:
                request.future.cancel()

    def _beam(self, level: int) -> int:
        return 1 if level >= 2 else self._asr.beam_size

    def _take(self) -> list[_Request]:
        """The next batch: the most urgent request and what can share its batch."""
        with self._ready:
            while True:
                self._adapt()
                self._queue = [r for r in self._queue if not r.future.cancelled()]
                if self._queue:
                    break
                self._ready.wait()
            self._queue.sort(key=lambda r: (r.urgency, r.order))
            key = self._queue[0].key()
            batch = self._fill([r for r in self._queue if r.key() == key])
            taken = [r for r in batch if r.future.set_running_or_notify_cancel()]
            self._queue = [r for r in self._queue if r not in batch]
            return taken

    def _fill(self, candidates: list[_Request]) -> list[_Request]:
        """The first candidates, up to the batch size and half the latency budget of estimated
        decoding: a batch cannot be stopped once started, so this bounds how long anything
        urgent (or a file, or a gone client's leftovers) waits behind one."""
        cost = self._cost[not candidates[0].draft and self._beam(self.level) > 1]
        batch, seconds = [candidates[0]], candidates[0].audio.duration * cost
        for request in candidates[1 : self.batch_size]:
            seconds += request.audio.duration * cost
            if seconds > self.latency_budget_s / 2:
                break
            batch.append(request)
        return batch

    def _run(self) -> None:
        while True:
            if batch := self._take():
                self._decode(batch)

    def _decode(self, batch: Sequence[_Request]) -> None:
        level = self.level
        draft = batch[0].draft
        speech = sum(r.audio.duration for r in batch)
        settings = self._settings(level, draft)
        if not draft and settings.beam_size > 1 and self._late_at_full_quality(batch, speech):
            settings = settings.model_copy(update={"beam_size": 1})
        started = time.perf_counter()
        try:
            transcriber = self._transcriber_for(settings)
            with window_at_least(batch[0].window_s):
                done = dict(
                    transcriber.transcribe_each([r.audio for r in batch], batch[0].language)
                )
        except Exception as error:  # every waiting client hears why, the worker goes on
            log.exception("decoding a batch of %d failed", len(batch))
            for request in batch:
                request.future.set_exception(error)
            return
        seconds = time.perf_counter() - started
        if not draft and speech > 0:
            beam = settings.beam_size > 1
            self._cost[beam] += COST_MEMORY * (seconds / speech - self._cost[beam])
        for index, request in enumerate(batch):
            request.future.set_result(Decoded(done[index], settings.beam_size, len(batch), level))
        if self.on_batch is not None:
            self.on_batch(BatchReport(len(batch), speech, seconds, level, self.queued))

    def _late_at_full_quality(self, batch: Sequence[_Request], speech: float) -> bool:
        """Whether the longest-waiting request of ``batch`` would come too near the latency
        budget if the batch were decoded at full quality."""
        if not self.adaptive:
            return False
        waited = time.monotonic() - min(r.queued_at for r in batch)
        return waited + speech * self._cost[True] > FULL_QUALITY_SHARE * self.latency_budget_s

    def _settings(self, level: int, draft: bool) -> AsrSettings:
        if draft:
            return self._asr.model_copy(update={"beam_size": 1, "word_timestamps": False})
        return self._asr.model_copy(update={"beam_size": self._beam(level)})
