"""Shared fixtures: one settings object with a per-session cache, shared models, real clips."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from lbrxvoicepro import VoicePipeline, load_settings
from lbrxvoicepro.config import Settings
from lbrxvoicepro.runtime import ModelManager
from tests.engines import CrashCheckedModels, require_engine

DATA = Path(__file__).parent / "data"
POLISH_CLIPS = sorted((DATA / "pl").glob("*.wav"))
NEMO = Path(__file__).resolve().parents[1].parent / "shared" / "testdata" / "pl-nemo"
"""Real read Polish speech (non-commercial: read from there, never copied here)."""
BECKETT_TEXT = "Ever tried. Ever failed. No matter. Try again. Fail again. Fail better."
RATE = 16000


def beckett_path() -> Path:
    spec = importlib.util.find_spec("moonshine_onnx")
    assert spec is not None and spec.origin, "useful-moonshine-onnx is installed by make install"
    return Path(spec.origin).parent / "assets" / "beckett.wav"


def reference(clip: Path) -> str:
    return clip.with_suffix(".txt").read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cache")


@pytest.fixture(scope="session")
def settings(cache_dir: Path) -> Settings:
    return load_settings(cache_dir=cache_dir)


@pytest.fixture(scope="session")
def models(settings: Settings) -> ModelManager:
    return CrashCheckedModels(settings)


@pytest.fixture(autouse=True)
def _native_engines_checked(request: pytest.FixtureRequest, settings: Settings) -> None:
    """``@pytest.mark.engines("whisper", ...)``: tests that build an engine themselves."""
    marker = request.node.get_closest_marker("engines")
    for name in marker.args if marker else ():
        require_engine(name, settings)


@pytest.fixture(scope="session")
def pipeline(settings: Settings, models: ModelManager) -> VoicePipeline:
    return VoicePipeline(settings, models)


@pytest.fixture(scope="session")
def non_speech() -> dict[str, np.ndarray]:
    """Ten seconds each of digital silence, white noise and steady tones."""
    rng = np.random.default_rng(7)
    t = np.arange(10 * RATE) / RATE
    tones = 0.3 * np.sin(2 * np.pi * 440 * t) + 0.2 * np.sin(2 * np.pi * 1000 * t)
    return {
        "silence": np.zeros(10 * RATE, dtype=np.float32),
        "white noise": (0.3 * rng.standard_normal(10 * RATE)).clip(-1, 1).astype(np.float32),
        "steady tones": tones.astype(np.float32),
    }
