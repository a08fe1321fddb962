"""``serve``, ``studio`` and the ``auth`` commands (API keys, tokens)."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated

import typer

from lbrxvoicepro.config import Settings
from lbrxvoicepro.errors import ConfigError

if TYPE_CHECKING:
    from lbrxvoicepro.server.app import Role

auth_app = typer.Typer(help="API keys and JWT bearer tokens for the server.", no_args_is_help=True)
RoleOption = Annotated[
    str,
    typer.Option(help="user (transcribe, speak, chat, query), collector (datasets), admin (all)."),
]


ROLE_PORTS = {"all": None, "api": 8000, "asr": 8123, "tts": 8135, "llm": 8140}
"""Each role's default port (the original design's: API 8000, ASR 8123 for files and 8126 for
streams, TTS 8135); ``all`` uses server.port."""


def serve(
    ctx: typer.Context,
    host: Annotated[str | None, typer.Option(help="Bind address [default: server.host].")] = None,
    port: Annotated[
        int | None,
        typer.Option(help="Port [default: server.port (8000); a worker role: its own port]."),
    ] = None,
    no_auth: Annotated[
        bool, typer.Option("--no-auth", help="No credentials needed (only on a loopback address).")
    ] = False,
    role: Annotated[
        str,
        typer.Option(
            help="all: everything in this process. api: everything, forwarding recognition "
            "and synthesis to the workers named by asr.remote_url and tts.remote_url. asr "
            "(port 8123; 8126 for a streams-only replica), tts (8135), llm (8140): a worker "
            "serving only its routes (docs/deploy.md).",
        ),
    ] = "all",
) -> None:
    """Run the OpenAI-compatible REST and WebSocket server, the /talk voice page and the
    /studio recording studio (docs/server.md, docs/studio.md), whole or as one role."""
    if role not in ROLE_PORTS:
        raise ConfigError(f"unknown role {role!r}; choose {', '.join(ROLE_PORTS)}")
    settings: Settings = ctx.obj
    server = settings.server.model_copy(
        update={
            "host": host or settings.server.host,
            "port": port or ROLE_PORTS[role] or settings.server.port,
            "auth": settings.server.auth and not no_auth,
        }
    )
    if role in ("all", "api"):
        typer.echo(f"Talk to it in a browser: http://{server.host}:{server.port}/talk", err=True)
    else:
        typer.echo(f"{role} worker on http://{server.host}:{server.port}", err=True)
    _run(settings.model_copy(update={"server": server}), role=role)  # type: ignore[arg-type]


def studio(
    ctx: typer.Context,
    port: Annotated[int | None, typer.Option(help="Port [default: server.port, 8000].")] = None,
    open_browser: Annotated[
        bool, typer.Option("--open/--no-open", help="Open the page in the default browser.")
    ] = True,
) -> None:
    """Record a dataset in the browser: the server on 127.0.0.1 without credentials, with
    /studio opened (datasets go to server.datasets_dir; docs/studio.md)."""
    settings: Settings = ctx.obj
    server = settings.server.model_copy(
        update={"host": "127.0.0.1", "port": port or settings.server.port, "auth": False}
    )
    address = f"http://127.0.0.1:{server.port}/studio"
    typer.echo(f"The studio: {address} (datasets in {server.datasets_dir})", err=True)
    _run(settings.model_copy(update={"server": server}), address if open_browser else None)


def _run(settings: Settings, open_when_up: str | None = None, role: Role = "all") -> None:
    import uvicorn

    from lbrxvoicepro.server import create_app, logs
    from lbrxvoicepro.server.deps import is_loopback
    from lbrxvoicepro.server.protocol import guarded_protocol

    server = settings.server
    if not server.auth and not is_loopback(server.host):
        raise ConfigError(
            f"refusing to serve on {server.host} without auth: bind to 127.0.0.1, or keep auth on"
        )
    app = create_app(settings, role=role)
    config = uvicorn.Config(
        app,
        host=server.host,
        port=server.port,
        log_level="info",
        # deadlines for slow headers and a cap on one address's connections (finding 18)
        http=guarded_protocol(server),
        ws_max_size=2**20,
        # PCM audio does not compress; inflating every frame cost the event loop a sixth of
        # its time under 32 fast streams
        ws_per_message_deflate=False,
        timeout_graceful_shutdown=5,  # open conversations are closed, not waited for
        # X-Forwarded-For is believed only from the proxies named (uvicorn's default trusts
        # 127.0.0.1, which let any local client pick its address for the rate limits)
        proxy_headers=bool(server.trusted_proxies),
        forwarded_allow_ips=server.trusted_proxies or "",
        limit_concurrency=server.max_connections,
        timeout_keep_alive=5,
    )
    logs.install()  # after uvicorn.Config, which sets up its loggers
    # The event loop takes the GIL back from a model's worker thread within 1 ms instead of
    # 5 ms: each loop iteration may wait that long, and a request spans several.
    sys.setswitchinterval(0.001)
    if open_when_up:
        import webbrowser

        app.router.on_startup.append(lambda: webbrowser.open(open_when_up))
    uvicorn.Server(config).run()


@auth_app.command("create-key")
def create_key(
    ctx: typer.Context,
    role: RoleOption = "user",
    name: Annotated[str, typer.Option(help="A note on who holds the key.")] = "",
) -> None:
    """Create an API key (printed once; only its hash is stored in server.keys_file)."""
    from lbrxvoicepro.server.auth import ROLES, KeyStore

    if role not in ROLES:
        raise ConfigError(f"unknown role {role!r}; choose {', '.join(ROLES)}")
    settings: Settings = ctx.obj
    typer.echo(KeyStore(settings.server.keys_file).create(role, name))  # type: ignore[arg-type]


@auth_app.command("issue-token")
def issue(
    ctx: typer.Context,
    subject: Annotated[str, typer.Argument(help="Who the token is for.")],
    role: RoleOption = "user",
    ttl: Annotated[int, typer.Option(min=60, help="Lifetime in seconds.")] = 3600,
) -> None:
    """Issue a signed JWT (HS256 with server.jwt_secret, issuer and audience checked)."""
    from lbrxvoicepro.server.auth import ROLES, issue_token

    if role not in ROLES:
        raise ConfigError(f"unknown role {role!r}; choose {', '.join(ROLES)}")
    settings: Settings = ctx.obj
    typer.echo(issue_token(settings.server, subject, role, ttl))  # type: ignore[arg-type]
