"""Root of the command: global options, the error edge, and the command groups."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from lbrxvoicepro.cli import collect as collect_cli
from lbrxvoicepro.cli import dataset as dataset_cli
from lbrxvoicepro.cli import doctor as doctor_cli
from lbrxvoicepro.cli import kb as kb_cli
from lbrxvoicepro.cli import models as models_cli
from lbrxvoicepro.cli import serve as serve_cli
from lbrxvoicepro.cli import synthesize as synthesize_cli
from lbrxvoicepro.cli import talk as talk_cli
from lbrxvoicepro.cli import transcribe as transcribe_cli
from lbrxvoicepro.config import load_settings
from lbrxvoicepro.errors import LbrxError

app = typer.Typer(
    name="lbrxvoicepro",
    help="Local-first voice AI toolkit: transcribe, collect datasets, speak, converse. "
    "Polish first; everything runs on this machine.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    # plain help: Rich markup would swallow the "[default: ...]" of every option's help
    rich_markup_mode=None,
)
app.command("transcribe")(transcribe_cli.transcribe)
app.command("synthesize")(synthesize_cli.synthesize)
app.command("collect")(collect_cli.collect)
for command in ("ingest", "validate", "convert", "stats", "speaker"):
    app.command(command)(getattr(dataset_cli, command))
app.add_typer(models_cli.app, name="models")
app.add_typer(kb_cli.app, name="kb")
app.command("ask")(kb_cli.ask)
app.command("talk")(talk_cli.talk)
app.command("serve")(serve_cli.serve)
app.command("studio")(serve_cli.studio)
app.command("doctor")(doctor_cli.doctor)
app.add_typer(serve_cli.auth_app, name="auth")


@app.callback()
def root(
    ctx: typer.Context,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            envvar="LBRX_CONFIG_FILE",
            help="TOML settings file (environment LBRX_... overrides it).",
        ),
    ] = None,
) -> None:
    ctx.obj = load_settings(config)


def main() -> None:
    """Entry point: project errors become one line on stderr and exit code 1."""
    try:
        app()
    except LbrxError as error:
        typer.echo(f"error: {error}", err=True)
        sys.exit(1)
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        sys.exit(130)
