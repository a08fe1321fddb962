"""Role-split services behind a real load balancer: HAProxy (Debian's) in front of two API
processes and two ASR workers, a TTS worker and an LLM worker, Redis for sessions and rate
limits, each a separate process on loopback. Through HAProxy the openai SDK transcribes,
synthesizes and chats; a conversation outlives the API process serving it; one ASR worker
killed, recognition carries on; rate limits hold across both API processes. deploy/compose.yaml
runs exactly these commands."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import numpy as np
import pytest
import yaml
from openai import OpenAI
from websockets.asyncio.client import connect

from lbrxvoicepro.audio import load
from lbrxvoicepro.config import Settings
from lbrxvoicepro.server.auth import FORWARDING, issue_token
from lbrxvoicepro.server.sessions import SessionStore
from lbrxvoicepro.text import wer
from tests.conftest import reference
from tests.e2e.test_cli import CLI
from tests.llm.conftest import free_port
from tests.server.conftest import SECRET, bearer, clip, wait_for
from tests.server.test_websockets import FRAME, stream

ROOT = Path(__file__).resolve().parents[2]
QUESTION = clip("bigos_azon_spont_0.wav")
RATE_LIMIT = 12


def role_command(role: str, port: int, *extra: str) -> list[str]:
    """What a process of the deployment runs (``lbrxvoicepro`` and its arguments)."""
    return ["serve", "--role", role, "--host", "127.0.0.1", "--port", str(port), *extra]


@dataclass
class Deployment:
    api: str
    """HAProxy's API frontend: the address clients use."""
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    commands: dict[str, list[str]] = field(default_factory=dict)
    ports: dict[str, int] = field(default_factory=dict)
    logs: Path = Path()
    """Each process's log, ``<name>.log`` (shown when a check fails)."""

    def log(self, name: str) -> str:
        return (self.logs / f"{name}.log").read_text(errors="replace")[-3000:]


HAPROXY = """
global
    maxconn 256
defaults
    mode http
    timeout connect 2s
    timeout client 300s
    timeout server 300s
    timeout tunnel 1h
    retries 3
    option redispatch
    retry-on conn-failure empty-response
    default-server check inter 300ms fall 1 rise 1
frontend api
    bind 127.0.0.1:{api}
    default_backend apis
frontend asr
    bind 127.0.0.1:{asr}
    default_backend asrs
backend apis
    option httpchk GET /healthz
    http-response set-header X-Served-By %s
    server api1 127.0.0.1:{api1}
    server api2 127.0.0.1:{api2}
backend asrs
    option httpchk GET /healthz
    server asr1 127.0.0.1:{asr1}
    server asr2 127.0.0.1:{asr2}
"""


@pytest.fixture(scope="module")
def deployment(
    redis_url: str, cache_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Deployment]:
    haproxy = shutil.which("haproxy")
    assert haproxy, "haproxy is installed by `make install` (apt-get install haproxy)"
    folder = tmp_path_factory.mktemp("deployment")
    ports = {name: free_port() for name in ("api", "asr", "api1", "api2", "asr1", "asr2")}
    ports |= {"tts": free_port(), "llm": free_port()}
    keys = folder / "keys.json"
    server = Settings().server.model_copy(update={"jwt_secret": SECRET})
    forwarding_token = issue_token(server, FORWARDING, "user", 3600)  # the API's, on the LLM
    env = {
        **os.environ,
        "LBRX_CACHE_DIR": str(cache_dir),
        "LBRX_SERVER__JWT_SECRET": SECRET,
        "LBRX_SERVER__KEYS_FILE": str(keys),
        "LBRX_SERVER__REDIS_URL": redis_url,
        "LBRX_SERVER__RATE_LIMIT": f"{RATE_LIMIT}/minute",
        "LBRX_SERVER__IP_RATE_LIMIT": "100000/minute",
        "LBRX_KB__DATA_DIR": str(folder / "kb"),
        "LBRX_LLM__MAX_TOKENS": "24",
        "LBRX_LLM__TEMPERATURE": "0",
    }
    api_env = {
        **env,
        "LBRX_ASR__REMOTE_URL": f"http://127.0.0.1:{ports['asr']}",
        "LBRX_TTS__REMOTE_URL": f"http://127.0.0.1:{ports['tts']}",
        "LBRX_LLM__BACKEND": "openai",
        "LBRX_LLM__BASE_URL": f"http://127.0.0.1:{ports['llm']}/v1",
        "LBRX_LLM__API_KEY": forwarding_token,
    }
    running = Deployment(f"127.0.0.1:{ports['api']}", ports=ports, logs=folder)
    roles = {"asr1": "asr", "asr2": "asr", "tts": "tts", "llm": "llm", "api1": "api", "api2": "api"}
    for name, role in roles.items():
        running.commands[name] = role_command(role, ports[name])
        running.processes[name] = subprocess.Popen(
            [*CLI, *running.commands[name]],
            env=api_env if role == "api" else env,
            stdout=subprocess.DEVNULL,
            stderr=(folder / f"{name}.log").open("wb"),
        )
    config = folder / "haproxy.cfg"
    config.write_text(HAPROXY.format(**ports))
    balancer = subprocess.Popen([haproxy, "-f", str(config), "-db"], stderr=subprocess.DEVNULL)
    try:
        for name in roles:
            wait_for(f"http://127.0.0.1:{ports[name]}/healthz")
        wait_for(f"http://{running.api}/healthz")
        yield running
    finally:
        balancer.terminate()
        for process in running.processes.values():
            process.kill()
        for process in [balancer, *running.processes.values()]:
            process.wait(timeout=30)


def served(deployment: Deployment, workers: tuple[str, ...], route: str, admin: str) -> int:
    """Requests to ``route`` the running ``workers`` have answered (their /metrics)."""
    count = 0
    for name in workers:
        if deployment.processes[name].poll() is not None:
            continue
        metrics = httpx.get(
            f"http://127.0.0.1:{deployment.ports[name]}/metrics", headers=bearer(admin)
        ).text
        for line in metrics.splitlines():
            if line.startswith("lbrx_requests_total{") and f'route="{route}"' in line:
                count += int(float(line.rsplit(" ", 1)[1]))
    return count


def test_the_openai_sdk_through_haproxy_reaches_every_role(
    deployment: Deployment, server_settings: Settings
) -> None:
    token = issue_token(server_settings.server, "sdk-user", "user")
    admin = issue_token(server_settings.server, "operator", "admin")
    client = OpenAI(base_url=f"http://{deployment.api}/v1", api_key=token, max_retries=0)
    with QUESTION.open("rb") as audio:
        text = client.audio.transcriptions.create(model="whisper-1", file=audio).text
    assert wer(reference(QUESTION), text) < 0.5, text
    assert served(deployment, ("asr1", "asr2"), "/v1/audio/transcriptions", admin) >= 1
    speech = client.audio.speech.create(model="tts-1", voice="alloy", input="Dzień dobry!")
    assert len(speech.content) > 2000  # an MP3 of "Dzień dobry!"
    assert served(deployment, ("tts",), "/v1/audio/speech", admin) >= 1
    chat = client.chat.completions.create(
        model="local", messages=[{"role": "user", "content": "Jak masz na imię?"}], max_tokens=8
    )
    assert chat.choices[0].message.content is not None
    assert served(deployment, ("llm",), "/v1/chat/completions", admin) >= 1


def test_rate_limits_hold_across_both_api_processes(
    deployment: Deployment, server_settings: Settings
) -> None:
    token = issue_token(server_settings.server, "counted", "user")
    answers = [
        httpx.get(f"http://{deployment.api}/v1/models", headers=bearer(token))
        for _ in range(RATE_LIMIT + 2)
    ]
    statuses = [a.status_code for a in answers]
    assert statuses == [200] * RATE_LIMIT + [429, 429]
    assert {a.headers["X-Served-By"] for a in answers} == {"api1", "api2"}


def test_recognition_carries_on_with_one_asr_worker_killed(
    deployment: Deployment, server_settings: Settings
) -> None:
    token = issue_token(server_settings.server, "after-kill", "user")
    deployment.processes["asr1"].send_signal(signal.SIGKILL)
    deployment.processes["asr1"].wait(timeout=30)
    client = OpenAI(base_url=f"http://{deployment.api}/v1", api_key=token, max_retries=0)
    for _ in range(3):
        with QUESTION.open("rb") as audio:
            text = client.audio.transcriptions.create(model="whisper-1", file=audio).text
        assert wer(reference(QUESTION), text) < 0.5, text


async def ask(address: str, token: str, session: str = "") -> tuple[str, str, dict]:  # type: ignore[type-arg]
    """One spoken question over /v1/stream/converse: (API that served it, session id, the
    turn's event)."""
    url = f"ws://{address}/v1/stream/converse?language=pl&token={token}"
    question = load(QUESTION).samples
    async with connect(url + (f"&session={session}" if session else ""), max_size=None) as ws:
        served_by = ws.response.headers["X-Served-By"]
        announced = json.loads(await ws.recv())
        assert announced["type"] == "session"

        async def talk() -> None:
            await stream(ws, question)
            while True:
                await stream(ws, np.zeros(FRAME, np.float32))

        talker = asyncio.create_task(talk())
        seen: list[str] = []
        try:
            async with asyncio.timeout(180):
                async for message in ws:
                    if isinstance(message, str):
                        event = json.loads(message)
                        seen.append(f"{event['type']}: {str(event)[:200]}")
                        if event["type"] == "turn":
                            return served_by, announced["id"], event
        except TimeoutError:
            raise AssertionError(f"no turn; events: {seen}") from None
        finally:
            talker.cancel()
    raise AssertionError(f"the conversation ended without a turn; events: {seen}")


def test_a_conversation_outlives_the_api_process_serving_it(
    deployment: Deployment, server_settings: Settings, redis_url: str
) -> None:
    token = issue_token(server_settings.server, "caller", "user")
    try:
        served_by, session, _ = asyncio.run(ask(deployment.api, token))
    except AssertionError as failure:
        raise AssertionError(
            f"{failure}\napi1: {deployment.log('api1')}\napi2: {deployment.log('api2')}"
        ) from None
    deployment.processes[served_by].send_signal(signal.SIGKILL)
    deployment.processes[served_by].wait(timeout=30)
    other, resumed, _ = asyncio.run(ask(deployment.api, token, session))
    assert other != served_by and resumed == session
    history = SessionStore(redis_url, 600).load(session)
    assert history is not None and [m.role for m in history.history].count("user") == 2


def test_compose_runs_the_commands_this_test_runs(deployment: Deployment) -> None:
    compose = yaml.safe_load((ROOT / "deploy" / "compose.yaml").read_text())

    def shape(command: list[str]) -> list[str]:
        """The command without where it listens (the host and port differ by design)."""
        kept: list[str] = []
        skip = False
        for part in command:
            if skip:
                skip = False
            elif part in ("--host", "--port"):
                skip = True
            else:
                kept.append(part)
        return kept

    tested = [shape(command) for command in deployment.commands.values()]
    services = compose["services"]
    ours = {name: s for name, s in services.items() if s.get("build") or "command" in s}
    assert {"api", "asr", "asr-streams", "tts", "llm"} <= set(ours)
    for name, service in ours.items():
        if name in ("redis", "haproxy"):
            continue
        assert shape(service["command"]) in tested, (name, service["command"])
