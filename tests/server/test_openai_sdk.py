"""The official ``openai`` SDK, pointed at the server, works unchanged."""

from __future__ import annotations

import openai
import pytest
from fastapi.testclient import TestClient

from lbrxvoicepro.audio import decode
from lbrxvoicepro.config import Settings
from lbrxvoicepro.pipeline import VoicePipeline
from lbrxvoicepro.runtime import ModelManager
from lbrxvoicepro.server.app import create_app
from lbrxvoicepro.text import cer, wer
from tests.conftest import reference
from tests.server.conftest import clip


@pytest.fixture
def sdk(client: TestClient, api_keys: dict[str, str]) -> openai.OpenAI:
    return openai.OpenAI(
        base_url="http://testserver/v1", api_key=api_keys["user"], http_client=client
    )


def test_transcribes_a_file(sdk: openai.OpenAI) -> None:
    path = clip("bigos_azon_spont_1.wav")
    with open(path, "rb") as audio:
        result = sdk.audio.transcriptions.create(
            model="whisper-1",
            file=audio,
            language="pl",
            response_format="verbose_json",
            timestamp_granularities=["word"],
        )
    assert wer(reference(path), result.text) < 0.35
    assert result.words and all(w.start <= w.end for w in result.words)
    assert result.language == "pl"


@pytest.mark.parametrize("format", ["srt", "vtt", "text"])
def test_transcription_formats(sdk: openai.OpenAI, format: str) -> None:
    with open(clip("bigos_azon_spont_0.wav"), "rb") as audio:
        text = sdk.audio.transcriptions.create(
            model="whisper-1", file=audio, response_format=format
        )
    assert isinstance(text, str) and text.strip()
    assert ("-->" in text) == (format != "text")


def test_synthesizes_speech_that_transcribes_back(
    sdk: openai.OpenAI, pipeline: VoicePipeline
) -> None:
    spoken = sdk.audio.speech.create(
        model="tts-1",
        voice="alloy",
        input="Dzień dobry! Spotkanie zaczyna się jutro rano.",
        response_format="wav",
    )
    audio = decode(spoken.content)
    assert audio.duration > 1.0
    heard = pipeline.transcribe_sync(audio).text
    # eSpeak's Polish through whisper-base: about a third of the letters go astray (0.27-0.34
    # measured); silence, noise or another sentence score near 1.
    assert cer("Dzień dobry! Spotkanie zaczyna się jutro rano.", heard) < 0.5, heard


@pytest.mark.parametrize("format", ["opus", "aac"])
def test_speech_in_openais_compressed_formats(sdk: openai.OpenAI, format: str) -> None:
    spoken = sdk.audio.speech.create(
        model="tts-1", voice="alloy", input="Dzień dobry!", response_format=format
    )
    audio = decode(spoken.content)
    assert 0.5 < audio.duration < 5 and float(abs(audio.samples).max()) > 0.05


def test_speed_shortens_the_speech(sdk: openai.OpenAI) -> None:
    lengths = {
        speed: len(
            sdk.audio.speech.create(
                model="tts-1", voice="alloy", input="Dzień dobry!", response_format="pcm",
                speed=speed,
            ).content
        )
        for speed in (1.0, 2.0)
    }  # fmt: skip
    assert lengths[2.0] == pytest.approx(lengths[1.0] / 2, rel=0.1)


def test_a_voice_not_offered_is_refused_naming_each_offered_voice_once(
    sdk: openai.OpenAI,
) -> None:
    with pytest.raises(openai.UnprocessableEntityError) as refused:
        sdk.audio.speech.create(model="tts-1", voice="piper:/etc/passwd", input="Tak.")
    message = refused.value.body["message"]  # type: ignore[index]
    offered = message.split("choose one of ")[1].split(", ")
    assert "espeak:pl" in offered and len(offered) == len(set(offered)), message


def test_streams_a_chat_completion(sdk: openai.OpenAI) -> None:
    stream = sdk.chat.completions.create(
        model="local", messages=[{"role": "user", "content": "Wymień trzy kolory."}], stream=True
    )
    deltas = [
        c.choices[0].delta.content for c in stream if c.choices and c.choices[0].delta.content
    ]
    assert len(deltas) >= 3 and "".join(deltas).strip()


def test_lists_models(sdk: openai.OpenAI) -> None:
    assert [m.id for m in sdk.models.list()] == ["whisper-base", "espeak:pl", "gemma-3-270m"]


def test_chat_from_a_knowledge_base_cites_inline_and_lists_only_what_it_cites(
    server_settings: Settings, api_keys: dict[str, str]
) -> None:
    """A server of its own: the shared one's models keep their knowledge bases elsewhere."""
    document = "Zamówienia przyjmuje Anna Nowak. Reklamacje rozpatruje Piotr Wiśniewski.\n"
    models = ModelManager(server_settings)
    with TestClient(create_app(server_settings, models)) as client:
        added = client.post(
            "/v1/kb/firma/documents",
            files={"files": ("firma.txt", document.encode())},
            headers={"Authorization": f"Bearer {api_keys['admin']}"},
        )
        assert added.status_code == 200, added.text
        sdk = openai.OpenAI(
            base_url="http://testserver/v1", api_key=api_keys["user"], http_client=client
        )
        asked = {
            "model": "gemma",
            "messages": [{"role": "user", "content": "Kto rozpatruje reklamacje?"}],
            "temperature": 0,
            "extra_body": {"kb": "firma"},
        }
        answer = sdk.chat.completions.create(**asked)  # type: ignore[call-overload]
        text = answer.choices[0].message.content
        assert "Wiśniewski" in text and "[1]" in text, text
        assert answer.model_extra["sources"] == ["[1] firma.txt, line 1"]
        assert set(answer.model_extra["grounding"]) == {"quoted", "reason"}
        streamed = sdk.chat.completions.create(**asked, stream=True)  # type: ignore[call-overload]
        assert "".join(chunk.choices[0].delta.content or "" for chunk in streamed) == text
    models.unload()
