"""``lbrxvoicepro models``: what models are available and where they live."""

from __future__ import annotations

import typer

from lbrxvoicepro.config import Settings
from lbrxvoicepro.models import CATALOG, ModelCatalog

app = typer.Typer(help="List and prepare the bundled models.", no_args_is_help=True)


@app.command("list")
def list_models(ctx: typer.Context) -> None:
    """Show every catalog model, whether it is ready, and its location."""
    settings: Settings = ctx.obj
    rows = ModelCatalog(settings.cache_dir).statuses()
    width = max(len(row.name) for row in rows)
    kind = max(len(row.kind) for row in rows)
    state = max(len(row.state) for row in rows)
    for row in rows:
        typer.echo(
            f"{row.name:<{width}}  {row.kind:<{kind}}  {row.state:<{state}}  {row.description}"
        )
        typer.echo(f"{'':<{width}}  {row.location}")


@app.command("prepare")
def prepare(ctx: typer.Context, name: str = typer.Argument("whisper-base")) -> None:
    """Resolve a model now (joins split files into the cache) and print its path."""
    settings: Settings = ctx.obj
    entry = CATALOG.get(name)
    typer.echo(ModelCatalog(settings.cache_dir).resolve(name, entry.kind if entry else "whisper"))
