"""``lbrxvoicepro doctor``: is each engine installed, which version, and does it really work."""

from __future__ import annotations

import contextlib
import sys
from typing import Annotated

import typer

from lbrxvoicepro.config import Settings


def doctor(
    ctx: typer.Context,
    json_output: Annotated[
        bool, typer.Option("--json", help="Print the results as JSON, for scripts.")
    ] = False,
    check: Annotated[
        list[str] | None,
        typer.Option(
            "--check",
            help="Run only this check (repeatable): whisper, vad, espeak, piper, embedder, llm.",
        ),
    ] = None,
) -> None:
    """Run one real inference per engine on the bundled models, each in its own process.

    Shows, for Whisper (CTranslate2), Silero VAD and the embedder (ONNX Runtime), eSpeak NG,
    Piper and the embedded LLM (llama.cpp): the version, whether it worked, how long it took,
    and the fix when it did not. Exit code 1 when any check fails; a crash in one engine
    (a segfault, say) is reported as such and hides no other result.
    """
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    from lbrxvoicepro.runtime.health import CHECKS, as_json, run_checks

    settings: Settings = ctx.obj
    known = {c.name for c in CHECKS}
    distribution = {c.name: c.distribution for c in CHECKS}
    unknown = sorted(set(check or []) - known)
    if unknown:
        raise typer.BadParameter(
            f"unknown check {', '.join(unknown)}; choose from {', '.join(sorted(known))}",
            param_hint="--check",
        )
    console = Console(stderr=True)
    waiting = contextlib.nullcontext() if json_output else console.status("checking engines…")
    with waiting:
        results = run_checks(settings, check or None)
    if json_output:
        typer.echo(as_json(results))
    else:
        table = Table(title="lbrxvoicepro doctor")
        for column in ("check", "engine", "package", "result", "time", "detail / fix"):
            table.add_column(column, overflow="fold")
        for r in results:
            detail = escape(r.detail if r.ok else f"{r.detail}\nfix: {r.fix}")
            table.add_row(
                r.task,
                r.engine,
                f"{distribution[r.name]} {r.version or '-'}",
                "[green]ok[/]" if r.ok else "[red]FAILED[/]",
                f"{r.seconds:.1f} s",
                detail,
            )
        Console(width=max(Console().width, 120)).print(table)
    if not all(r.ok for r in results):
        sys.exit(1)
