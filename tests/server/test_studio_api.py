"""The studio's API on real read Polish speech (nEMO clips, read from ../shared/testdata): takes
judged against their prompts, kept losslessly and encrypted at rest, the best take chosen,
review, resume and charts."""

from __future__ import annotations

import csv

import numpy as np
import pytest
import soundfile as sf
from fastapi.testclient import TestClient

from lbrxvoicepro.config import Settings
from lbrxvoicepro.dataset.crypto import cipher_for
from lbrxvoicepro.dataset.store import DatasetStore
from lbrxvoicepro.dataset.studio import TakeRef
from tests.conftest import NEMO
from tests.server.conftest import bearer

CLIPS = ("IC0_neutral_10.wav", "EB0_neutral_34.wav", "KD0_neutral_12.wav")


def nemo_text(name: str) -> str:
    with (NEMO / "MANIFEST.tsv").open(encoding="utf-8") as manifest:
        return next(
            r["text"] for r in csv.DictReader(manifest, delimiter="\t") if r["file"] == name
        )


def pcm16(name: str, pad_s: float = 0.5) -> tuple[bytes, int]:
    """The clip as a page sends it: silence, the speech, silence, 16-bit little-endian."""
    samples, rate = sf.read(NEMO / name, dtype="int16")
    pad = np.zeros(int(pad_s * rate), np.int16)
    return np.concatenate([pad, samples, pad]).astype("<i2").tobytes(), rate


@pytest.fixture(scope="module")
def dataset(client: TestClient, tokens: dict[str, str]) -> str:
    headers = bearer(tokens["collector"])
    assert client.post("/v1/datasets/studio_api", headers=headers).status_code == 201
    prompts = "\n".join(["# nEMO", *(nemo_text(c) for c in CLIPS)])
    put = client.put(
        "/v1/datasets/studio_api/prompts/nemo",
        headers={**headers, "Content-Type": "text/plain"},
        content=prompts.encode(),
    )
    assert put.json() == {"name": "nemo", "prompts": 3}, put.text
    return "studio_api"


def take(client: TestClient, token: str, number: int, clip: str) -> dict:  # type: ignore[type-arg]
    body, rate = pcm16(clip)
    answer = client.post(
        "/v1/datasets/studio_api/takes",
        headers={**bearer(token), "Content-Type": "application/octet-stream"},
        params={"speaker": "ewa", "prompts": "nemo", "number": number, "sample_rate": rate},
        content=body,
    )
    assert answer.status_code == 200, answer.text
    return answer.json()  # type: ignore[no-any-return]


def test_a_speaker_is_recorded_only_with_consent(
    client: TestClient, tokens: dict[str, str], dataset: str
) -> None:
    headers = bearer(tokens["collector"])
    refused = client.post(
        f"/v1/datasets/{dataset}/speakers", headers=headers, json={"id": "ewa", "consent": False}
    )
    assert refused.status_code == 422 and "consent" in refused.text
    added = client.post(
        f"/v1/datasets/{dataset}/speakers", headers=headers, json={"id": "ewa", "consent": True}
    )
    assert added.status_code == 201
    listed = client.get(f"/v1/datasets/{dataset}/speakers", headers=headers).json()
    assert listed["speakers"] == [{"id": "ewa", "name": "ewa", "language": "pl"}]


def test_takes_are_judged_stored_losslessly_and_the_best_one_kept(
    client: TestClient, tokens: dict[str, str], dataset: str, server_settings: Settings
) -> None:
    token = tokens["collector"]
    client.post(
        f"/v1/datasets/{dataset}/speakers",
        headers=bearer(token),
        json={"id": "ewa", "consent": True},
    )
    good = take(client, token, 1, CLIPS[0])
    assert good["suggestion"] == "keep" and good["status"] == "accepted", good
    assert good["metrics"]["prompt_cer"] < 0.25 and good["text"] == nemo_text(CLIPS[0])
    assert 0.1 < good["speech"][0] < good["speech"][1] < good["take_seconds"] - 0.1
    assert good["sample_rate"] == 24000 and len(good["waveform"]) == 200
    wrong = take(client, token, 2, CLIPS[0])  # the first prompt's clip read for the second
    assert wrong["suggestion"] == "redo" and wrong["status"] == "rejected"
    assert any("read differently from the prompt" in r for r in wrong["reasons"])
    assert wrong["heard"] and wrong["metrics"]["prompt_cer"] > 0.5
    again = take(client, token, 1, CLIPS[0])  # a second good take of prompt 1 is kept instead
    assert again["status"] == "accepted"

    store = DatasetStore(
        server_settings.server.datasets_dir / dataset, cipher_for(server_settings.dataset)
    )
    try:
        first = store.utterance(good["id"])
        assert (first.status, first.reasons) == ("rejected", ("another take kept",))
        ref = TakeRef.of(first)
        assert ref and (ref.prompt_set, ref.number) == ("nemo", 1)
        assert ref.take_path.endswith(".flac.enc")  # the take is encrypted at rest too
        assert b"fLaC" not in (store.root / ref.take_path).read_bytes()[:64]
        recorded = store.read_take(ref.take_path)
        sent = np.frombuffer(pcm16(CLIPS[0])[0], "<i2")
        assert recorded.sample_rate == 24000
        assert np.array_equal(np.round(recorded.samples * 32768).astype(np.int16), sent)
        kept = store.read_audio(first)  # the utterance is the take's speech, sample for sample
        start = round(first.source_start * 24000)
        assert np.array_equal(kept.samples, recorded.samples[start : start + len(kept.samples)])
    finally:
        store.close()

    # restoring the first take makes it the kept one again
    restored = client.patch(
        f"/v1/datasets/{dataset}/utterances/{good['id']}",
        headers=bearer(token),
        json={"status": "accepted"},
    )
    assert restored.json()["status"] == "accepted"
    progress = client.get(
        f"/v1/datasets/{dataset}/progress",
        headers=bearer(token),
        params={"speaker": "ewa", "prompts": "nemo"},
    ).json()
    assert (progress["done"], progress["total"], progress["resume_at"]) == (1, 3, 2)
    first_prompt = progress["prompts"][0]
    assert [t["status"] for t in first_prompt["takes"]] == ["accepted", "rejected"]
    assert progress["seconds_recorded"] > progress["seconds_accepted"] > 1


def test_review_fixes_a_transcript_rejects_and_draws_the_charts(
    client: TestClient, tokens: dict[str, str], dataset: str
) -> None:
    headers = bearer(tokens["collector"])
    client.post(
        f"/v1/datasets/{dataset}/speakers", headers=headers, json={"id": "ewa", "consent": True}
    )
    utterance = take(client, tokens["collector"], 3, CLIPS[2])
    fixed = client.patch(
        f"/v1/datasets/{dataset}/utterances/{utterance['id']}",
        headers=headers,
        json={"text": "Mój teść zawsze służy dobrą radą."},
    )
    assert fixed.json()["text"] == "Mój teść zawsze służy dobrą radą."
    rejected = client.patch(
        f"/v1/datasets/{dataset}/utterances/{utterance['id']}",
        headers=headers,
        json={"status": "rejected"},
    )
    assert rejected.json()["reasons"] == ["rejected in review"]
    listed = client.get(
        f"/v1/datasets/{dataset}/utterances", headers=headers, params={"status": "rejected"}
    ).json()["utterances"]
    assert utterance["id"] in {u["id"] for u in listed}
    audio = client.get(
        f"/v1/datasets/{dataset}/utterances/{utterance['id']}/audio", headers=headers
    )
    assert audio.headers["content-type"] == "audio/wav" and audio.content[:4] == b"RIFF"
    charts = client.get(f"/v1/datasets/{dataset}/charts", headers=headers).json()["charts"]
    assert {c["metric"] for c in charts} == {"duration", "snr_db", "loudness_lufs", "prompt_cer"}
    assert all(c["svg"].lstrip().startswith("<svg") or "<svg" in c["svg"] for c in charts)
    empty = client.patch(
        f"/v1/datasets/{dataset}/utterances/{utterance['id']}", headers=headers, json={"text": " "}
    )
    assert empty.status_code == 409 and "cannot be empty" in empty.text


def test_bad_takes_are_refused_with_a_reason(
    client: TestClient, tokens: dict[str, str], dataset: str
) -> None:
    headers = {**bearer(tokens["collector"]), "Content-Type": "application/octet-stream"}
    params = {"speaker": "ewa", "prompts": "nemo", "number": 1, "sample_rate": 24000}
    odd = client.post(
        f"/v1/datasets/{dataset}/takes", headers=headers, params=params, content=b"abc"
    )
    assert odd.status_code == 422 and "16-bit PCM" in odd.text
    beyond = client.post(
        f"/v1/datasets/{dataset}/takes",
        headers=headers,
        params={**params, "number": 4},
        content=bytes(48000),
    )
    assert beyond.status_code == 409 and "prompts 1 to 3" in beyond.text
    unknown = client.post(
        f"/v1/datasets/{dataset}/takes",
        headers=headers,
        params={**params, "prompts": "nope"},
        content=bytes(48000),
    )
    assert unknown.status_code == 409 and "no prompt set 'nope'" in unknown.text
