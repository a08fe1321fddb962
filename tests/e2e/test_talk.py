"""``lbrxvoicepro talk --from-file``: a spoken question answered aloud, without audio devices."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

from lbrxvoicepro.audio import encode, load
from lbrxvoicepro.runtime import ModelManager
from lbrxvoicepro.text import cer
from lbrxvoicepro.text.normalize import normalize_for_speech
from tests.e2e.test_cli import CLI


def test_a_spoken_question_gets_an_answer_whisper_hears_back(
    cache_dir: Path, tmp_path: Path, models: ModelManager
) -> None:
    question = tmp_path / "pytanie.wav"
    encode(models.synthesizer("espeak:pl").synthesize_sync("Jaka jest stolica Polski?"), question)
    broken = tmp_path / "zepsuty.wav"
    broken.write_bytes(b"not audio")
    answer = tmp_path / "odpowiedz.wav"
    env = {
        **os.environ,
        "LBRX_CACHE_DIR": str(cache_dir),
        "LBRX_LLM__MAX_TOKENS": "40",
        "LBRX_LLM__TEMPERATURE": "0",
    }
    files = ["--from-file", str(broken), "--from-file", str(question), "--to-file", str(answer)]
    result = subprocess.run(
        [*CLI, "talk", *files],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert result.returncode == 1, result.stderr  # the broken file fails; the question is answered
    assert "zepsuty.wav" in result.stderr
    heard = re.search(r"^you: (.+)$", result.stdout, re.M)
    assert heard and cer("Jaka jest stolica Polski?", heard.group(1)) < 0.3, result.stdout
    written = re.search(r"^assistant: (.+)$", result.stdout, re.M)
    assert written, result.stdout
    assert "voice to voice" in result.stdout
    spoken = normalize_for_speech(re.sub(r"\[\d+\]", "", written.group(1)), "pl")
    transcript = models.transcriber().transcribe(load(answer), "pl")
    assert cer(spoken, transcript.text) < 0.5, (spoken, transcript.text)
