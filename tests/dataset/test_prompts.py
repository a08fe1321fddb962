"""The bundled Polish prompt set, and prompted reading with takes judged by CER."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator

import numpy as np

from lbrxvoicepro.audio import resample
from lbrxvoicepro.dataset.collect import PromptAsk, PromptOutcome, collect_prompted, load_prompts
from lbrxvoicepro.types import Audio, Speaker
from tests.dataset.conftest import make_builder

SPELLINGS = ["ą", "ę", "ć", "ł", "ń", "ó", "ś", "ź", "ż", "ch", "cz", "dz", "dź", "rz", "sz"]
SPELLINGS += ["ci", "si", "zi", "ni", "dzi", "prz", "szcz"]
RARE_CLUSTERS = ["dż", "chrz", "wst", "źdź"]


def test_the_polish_prompt_set_is_large_varied_and_unique() -> None:
    prompts = load_prompts("pl")
    assert len(prompts) >= 300
    assert len(set(prompts)) == len(prompts)
    text = " ".join(prompts).lower()
    for spelling in SPELLINGS:
        assert text.count(spelling) >= 10, spelling
    for cluster in RARE_CLUSTERS:
        assert cluster in text, cluster
    assert all(3 <= len(p.split()) <= 16 for p in prompts)
    assert not any(char.isdigit() for char in text)
    assert sum(p.endswith("?") for p in prompts) >= 10
    assert sum(p.endswith("!") for p in prompts) >= 8
    assert all(unicodedata.is_normalized("NFC", p) for p in prompts)


def read_aloud(voice, takes: list[str]) -> Iterator[np.ndarray]:  # type: ignore[no-untyped-def]
    """The takes spoken one after another with pauses, as 100 ms frames of 16 kHz audio."""
    silence = np.zeros(int(1.5 * voice.sample_rate), dtype=np.float32)
    recording = np.concatenate(
        [silence] + [np.concatenate([voice.synthesize_sync(t).samples, silence]) for t in takes]
    )
    speech = resample(Audio(recording, voice.sample_rate), 16000).samples
    return (speech[i : i + 1600] for i in range(0, len(speech), 1600))


def test_prompted_reading_keeps_matching_takes_and_asks_again(tmp_path, settings, models):
    builder = make_builder(tmp_path / "ds", settings, models)
    builder.store.add_speaker(Speaker("reader", "Reader", "en"))
    voice = models.synthesizer("piper:en_US-joe-medium")
    prompts = ["The weather is lovely today.", "Please close the window before you leave."]
    takes = [prompts[0], "My brother lives in a small house by the river.", prompts[1]]
    asked: list[PromptAsk] = []
    outcomes = collect_prompted(
        builder, read_aloud(voice, takes), "reader", prompts, on_prompt=asked.append
    )
    assert [(o.prompt, o.kept, o.attempts) for o in outcomes] == [
        (prompts[0], True, 1),
        (prompts[1], True, 2),
    ]
    assert [(a.prompt, a.number, a.total, a.attempt) for a in asked] == [
        (prompts[0], 1, 2, 1),
        (prompts[1], 2, 2, 1),
        (prompts[1], 2, 2, 2),
    ]
    assert all(o.heard for o in outcomes)
    stored = builder.store.utterances()
    assert [u.text for u in stored] == prompts
    assert all(u.words for u in stored)


def test_a_session_resumes_after_the_prompts_read_and_a_prompt_is_skipped_after_three_takes(
    tmp_path, settings, models
):
    builder = make_builder(tmp_path / "ds", settings, models)
    builder.store.add_speaker(Speaker("reader", "Reader", "en"))
    voice = models.synthesizer("piper:en_US-joe-medium")
    prompts = [
        "The weather is lovely today.",
        "Please close the window before you leave.",
        "We will meet at the station after lunch.",
    ]
    first = collect_prompted(builder, read_aloud(voice, prompts[:1]), "reader", prompts)
    assert [o.kept for o in first] == [True]

    wrong = "My brother lives in a small house by the river."
    asked: list[PromptAsk] = []
    told: list[PromptOutcome] = []
    second = collect_prompted(
        builder,
        read_aloud(voice, [wrong, wrong, wrong, prompts[2]]),
        "reader",
        prompts,
        on_prompt=asked.append,
        on_outcome=told.append,
    )
    assert asked[0].number == 2 and asked[0].prompt == prompts[1]  # the first was read already
    assert [(o.prompt, o.kept, o.skipped, o.attempts) for o in second] == [
        (prompts[1], False, True, 3),
        (prompts[2], True, False, 1),
    ]
    assert [o.skipped for o in told] == [False, False, True, False]
    assert "brother" in told[0].heard.lower()
    assert [u.text for u in builder.store.utterances()] == [prompts[0], prompts[2]]
