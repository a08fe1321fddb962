"""The /talk page in real headless Chromium (Debian's, driven by Playwright), its microphone
faked from a WAV file of a spoken Polish question: it must receive and play a spoken answer,
and the server's session must hold the question's transcript."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from fastapi import FastAPI
from playwright.sync_api import Browser, Page

from lbrxvoicepro.audio import load
from lbrxvoicepro.server.sessions import Session
from lbrxvoicepro.text import wer
from tests.browser import chromium
from tests.conftest import reference
from tests.server.conftest import clip

QUESTION = clip("bigos_azon_spont_0.wav")


@pytest.fixture(scope="module")
def microphone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """What the fake microphone says once: a second of silence, the question, then silence."""
    samples = load(QUESTION).samples
    silence = np.zeros(16000, np.float32)
    path = tmp_path_factory.mktemp("microphone") / "question.wav"
    sf.write(path, np.concatenate([silence, samples, *[silence] * 8]), 16000, subtype="PCM_16")
    return path


@pytest.fixture(scope="module")
def browser(microphone: Path) -> Iterator[Browser]:
    with chromium(
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-audio-capture={microphone}%noloop",
    ) as launched:
        yield launched


def open_talk(browser: Browser, address: str) -> tuple[Page, list[str]]:
    """The page, and the script errors it raises (collected as they happen)."""
    page = browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"http://{address}/talk")
    return page, errors


def test_the_talk_page_hears_a_spoken_question_and_plays_the_spoken_answer(
    browser: Browser, live_server: str, tokens: dict[str, str], app: FastAPI
) -> None:
    page, errors = open_talk(browser, live_server)
    page.fill("#token", tokens["user"])
    page.select_option("#language", "pl")
    page.click("#start")
    # waits on what the page reports, never on a clock: the answer's audio has been played
    page.wait_for_function("() => window.talk.stats.played > 0.5", timeout=180_000)
    page.locator("#timings tbody tr").first.wait_for(timeout=180_000)  # the turn is done
    assert page.locator("#error").text_content() == ""
    heard = page.evaluate("window.talk.stats.transcripts")
    assert heard and wer(reference(QUESTION), heard[0]) < 0.5, heard
    assert page.locator("#log .user").first.text_content() == heard[0].strip()
    assert page.locator("#log .assistant").first.text_content()
    stats = page.evaluate("window.talk.stats")
    assert stats["received"] >= stats["played"]
    session_id = page.locator("#session").get_attribute("data-id")
    session: Session | None = app.state.lbrx.sessions.load(session_id or "")
    assert session is not None and session.history[0].role == "user"
    assert session.history[0].content == heard[0]
    page.click("#stop")
    assert page.locator("#status").text_content() == "idle"
    assert errors == []
    page.close()


def test_a_refused_key_is_shown_on_the_page(browser: Browser, live_server: str) -> None:
    page, errors = open_talk(browser, live_server)
    page.fill("#token", "lbrx_nonsense_key")
    page.click("#start")
    page.locator("#error:not(:empty)").wait_for(timeout=60_000)
    assert "ended the conversation" in (page.locator("#error").text_content() or "")
    assert page.locator("#status").text_content() == "idle"
    assert not page.locator("#start").is_disabled()
    assert errors == []
    page.close()
