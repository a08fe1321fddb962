"""The shared decoder on the bundled Whisper and real Polish speech: batches that do not change
a transcript, quality that steps down under load and back up, work of gone clients dropped."""

from __future__ import annotations

import time
from concurrent.futures import Future

import pytest

from lbrxvoicepro.asr.scheduler import BatchReport, Busy, Decoded, DecodeScheduler, Urgency
from lbrxvoicepro.audio import load
from lbrxvoicepro.config import Settings
from lbrxvoicepro.runtime import ModelManager
from lbrxvoicepro.types import Audio
from tests.server.conftest import clip


def speech(name: str, start_s: float, end_s: float) -> Audio:
    samples = load(clip(name)).samples
    return Audio(samples[int(start_s * 16000) : int(end_s * 16000)], 16000)


@pytest.fixture
def decoder(models: ModelManager, settings: Settings) -> DecodeScheduler:
    """Without adaptation (the settings stay the same whatever the load) and with room for
    several utterances in a batch."""
    return DecodeScheduler(models.transcriber, settings.asr, adaptive=False, latency_budget_s=30)


def words(decoded: Decoded) -> list[tuple[str, float, float]]:
    return [(w.text, w.start, w.end) for s in decoded.transcript.segments for w in s.words]


def test_two_streams_decoded_in_one_batch_get_what_each_gets_alone(
    decoder: DecodeScheduler,
) -> None:
    first = speech("bigos_azon_spont_0.wav", 2, 9)
    second = speech("bigos_azon_spont_1.wav", 3, 9)
    alone = [decoder.submit(first, "pl").result(), decoder.submit(second, "pl").result()]
    busy = decoder.submit(speech("bigos_azon_spont_2.wav", 0, 20), "pl")  # holds the worker
    together = [decoder.submit(first, "pl"), decoder.submit(second, "pl")]
    busy.result()
    batched = [future.result() for future in together]
    assert [d.batch for d in alone] == [1, 1]
    assert [d.batch for d in batched] == [2, 2]
    assert alone[0].transcript.text and alone[1].transcript.text
    for single, shared in zip(alone, batched, strict=True):
        assert shared.transcript.text == single.transcript.text
        assert [w[0] for w in words(shared)] == [w[0] for w in words(single)]
        times = [t for w in words(shared) for t in w[1:]]
        assert times == pytest.approx([t for w in words(single) for t in w[1:]], abs=0.02)


def test_quality_steps_down_under_load_and_back_up(
    models: ModelManager, settings: Settings
) -> None:
    decoder = DecodeScheduler(models.transcriber, settings.asr, latency_budget_s=4.0)
    piece = speech("bigos_azon_spont_3.wav", 1, 6)
    alone = decoder.submit(piece, "pl", Urgency.FINAL).result()
    assert (alone.level, alone.beam_size) == (0, settings.asr.beam_size)
    loaded = [decoder.submit(piece, "pl", Urgency.FINAL) for _ in range(24)]
    draft = decoder.submit(piece, "pl", Urgency.PARTIAL)
    under_load = [future.result() for future in loaded]
    assert max(d.level for d in under_load) == 2
    assert all(d.beam_size == 1 for d in under_load if d.level == 2)
    assert max(d.batch for d in under_load) > 1
    assert draft.cancelled(), "partials are dropped under load"
    calm = [decoder.submit(piece, "pl").result() for _ in range(3)]
    levels = [d.level for d in calm]
    assert levels == sorted(levels, reverse=True) and levels[-1] == 0 and levels[0] < 2
    assert calm[-1].beam_size == settings.asr.beam_size
    assert calm[-1].transcript.text == alone.transcript.text
    assert decoder.submit(piece, "pl", Urgency.PARTIAL).result().transcript.text


def test_a_final_that_waited_too_long_for_full_quality_is_decoded_greedily(
    models: ModelManager, settings: Settings
) -> None:
    """Budget: twice a 5 s piece's full-quality decode, so the piece alone is decoded at full
    quality; queued behind 20 s of speech, it would pass the budget at full quality, and is
    decoded greedily though the load (one queued piece) does not step the level down that
    far. Times are measured, not assumed: the same holds on a slower machine."""
    piece = speech("bigos_azon_spont_3.wav", 1, 6)
    calibrating = DecodeScheduler(models.transcriber, settings.asr, adaptive=False)
    times = []
    for _ in range(2):  # the first may load the model
        started = time.perf_counter()
        calibrating.submit(piece, "pl").result()
        times.append(time.perf_counter() - started)
    piece_s = min(times)
    decoder = DecodeScheduler(models.transcriber, settings.asr, latency_budget_s=2 * piece_s)
    alone = decoder.submit(piece, "pl").result()
    assert alone.beam_size == settings.asr.beam_size
    busy = decoder.submit(speech("bigos_azon_spont_2.wav", 0, 20), "pl")
    late = decoder.submit(piece, "pl")
    busy.result()
    decoded = late.result()
    assert decoded.level < 2, "the level alone would have kept beam search"
    assert decoded.beam_size == 1
    assert decoded.transcript.text
    assert decoder.submit(piece, "pl").result().beam_size == settings.asr.beam_size


def test_work_of_a_client_that_left_is_never_decoded(
    models: ModelManager, settings: Settings
) -> None:
    reports: list[BatchReport] = []
    decoder = DecodeScheduler(models.transcriber, settings.asr, on_batch=reports.append)
    busy = decoder.submit(speech("bigos_azon_spont_2.wav", 0, 20), "pl")
    gone: list[Future[Decoded]] = [
        decoder.submit(speech("bigos_azon_spont_0.wav", 0, 25), "pl") for _ in range(6)
    ]
    assert all(future.cancel() for future in gone)
    kept = decoder.submit(speech("bigos_azon_spont_1.wav", 3, 9), "pl")
    busy.result()
    assert kept.result().transcript.text
    assert sum(r.size for r in reports) == 2


def test_a_new_stream_is_refused_when_queued_work_exceeds_the_budget(
    models: ModelManager, settings: Settings
) -> None:
    decoder = DecodeScheduler(models.transcriber, settings.asr, latency_budget_s=0.5)
    decoder.admit()
    busy = decoder.submit(speech("bigos_azon_spont_2.wav", 0, 20), "pl")
    queued = decoder.submit(speech("bigos_azon_spont_0.wav", 0, 25), "pl")
    with pytest.raises(Busy, match="at capacity"):
        decoder.admit()
    with pytest.raises(Busy):
        decoder.check()
    assert decoder.refused == 2
    busy.result(), queued.result()
    decoder.admit()
    assert decoder.streams == 2
