"""Knowledge base commands: add, list, remove, query; and ``ask``, which answers from one."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Annotated

import typer

from lbrxvoicepro.config import Settings
from lbrxvoicepro.errors import KnowledgeBaseError

app = typer.Typer(
    help="Knowledge bases: documents (txt, md, html, pdf, docx) searched by meaning and words.",
    no_args_is_help=True,
)
KbOption = Annotated[
    str | None,
    typer.Option("--kb", help="Knowledge base name; left out, the kb.default setting ('default')."),
]
LlmOption = Annotated[
    str | None,
    typer.Option(
        help="'llama-cpp' (embedded, default), or the base URL of an OpenAI-compatible "
        "server (Ollama, LM Studio, llama.cpp server, vLLM, mlx_lm.server)."
    ),
]
ModelOption = Annotated[
    str | None, typer.Option(help="GGUF path or catalog name; model id for a server.")
]


def with_llm(settings: Settings, llm: str | None, model: str | None) -> Settings:
    """The settings with the language model that ``--llm`` and ``--model`` name."""
    chosen = settings.llm.model_copy()
    if llm is not None and llm != "llama-cpp":
        if not llm.startswith(("http://", "https://")):
            raise typer.BadParameter(
                f"{llm!r} is neither 'llama-cpp' nor a server's base URL such as "
                "http://127.0.0.1:11434/v1 (Ollama)",
                param_hint="--llm",
            )
        chosen.backend, chosen.base_url = "openai", llm
    elif llm == "llama-cpp":
        chosen.backend = "llama-cpp"
    if model is not None:
        chosen.model = model
    return settings.model_copy(update={"llm": chosen})


def _not_blank(text: str) -> str:
    if not text.strip():
        raise typer.BadParameter("is empty")
    return text


def _models(settings: Settings):  # type: ignore[no-untyped-def]
    from lbrxvoicepro.runtime import ModelManager

    return ModelManager(settings)


@app.command()
def add(
    ctx: typer.Context,
    paths: Annotated[list[Path], typer.Argument(help="Files, or folders searched recursively.")],
    kb: KbOption = None,
) -> None:
    """Add documents; an edited file replaces its old version, an unchanged one is skipped.

    Each document goes in whole or not at all. Files that cannot be used are listed with the
    reason and the rest go on; the exit code is 1 if any failed.
    """
    from rich.progress import Progress

    from lbrxvoicepro.kb.base import expand_paths

    # pypdf logs its own warnings about a damaged file before the one-line reason below.
    logging.getLogger("pypdf").setLevel(logging.ERROR)
    files, missing = expand_paths(paths)
    knowledge_base = _models(ctx.obj).knowledge_base(kb)
    with Progress(transient=True) as progress:
        task = progress.add_task("adding", total=len(files))
        report = knowledge_base.add(files, lambda _: progress.advance(task))
    report.failed.extend(missing)
    for source, chunks in report.added:
        typer.echo(f"added   {source} ({chunks} chunks)")
    for source, reason in report.skipped:
        typer.echo(f"skipped {source}: {reason}")
    for source, reason in report.failed:
        typer.echo(f"failed  {source}: {reason}", err=True)
    typer.echo(
        f"{knowledge_base.name}: {len(report.added)} added, {len(report.skipped)} skipped, "
        f"{len(report.failed)} failed"
    )
    if report.failed:
        sys.exit(1)


@app.command("list")
def list_(ctx: typer.Context, kb: KbOption = None) -> None:
    """Knowledge bases (without --kb), or the documents of one."""
    from lbrxvoicepro.kb.base import knowledge_base_names

    settings: Settings = ctx.obj
    if kb is None:
        for name in knowledge_base_names(settings.kb):
            typer.echo(name)
        return
    require_kb(settings, kb)
    for document in _models(settings).knowledge_base(kb).documents():
        typer.echo(f"{document.chunks:6d} chunks  {document.source}")


@app.command()
def remove(
    ctx: typer.Context,
    sources: Annotated[list[str], typer.Argument(help="Documents, as `kb list --kb` shows them.")],
    kb: KbOption = None,
) -> None:
    """Remove documents (and all their chunks) from a knowledge base."""
    settings: Settings = ctx.obj
    require_kb(settings, kb)
    knowledge_base = _models(settings).knowledge_base(kb)
    missing = 0
    for source in sources:
        removed = knowledge_base.remove([source])
        for resolved in removed:
            typer.echo(f"removed {resolved}")
        if not removed:
            missing += 1
            typer.echo(f"failed  {source}: not in knowledge base {knowledge_base.name!r}", err=True)
    if missing:
        sys.exit(1)


@app.command()
def query(
    ctx: typer.Context,
    text: Annotated[str, typer.Argument(help="What to look for.", callback=_not_blank)],
    kb: KbOption = None,
    k: Annotated[int, typer.Option("-k", min=1, help="How many passages.")] = 5,
) -> None:
    """Ranked passages with their source and location."""
    settings: Settings = ctx.obj
    require_kb(settings, kb)
    knowledge_base = _models(settings).knowledge_base(kb)
    hits = knowledge_base.search(text, k)
    for rank, hit in enumerate(hits, start=1):
        typer.echo(f"{rank}. {hit.chunk.source} ({hit.chunk.location})  score {hit.score:.4f}")
        typer.echo(f"   {hit.chunk.text}")
    if not hits:
        why = "is empty" if not knowledge_base.documents() else "has none that match"
        typer.echo(f"no passages: knowledge base {knowledge_base.name!r} {why}", err=True)


def ask(
    ctx: typer.Context,
    question: Annotated[str, typer.Argument(help="The question.", callback=_not_blank)],
    kb: KbOption = None,
    llm: LlmOption = None,
    model: ModelOption = None,
    k: Annotated[int, typer.Option("-k", min=1, help="Passages given to the model.")] = 5,
    no_kb: Annotated[
        bool, typer.Option("--no-kb", help="Answer without a knowledge base.")
    ] = False,
) -> None:
    """Answer a question from a knowledge base, with numbered citations in the text.

    With a knowledge base the answer is checked against its passages before it is shown
    (llm.grounding): a number or name that the cited passage does not hold, and the passage
    sentence that best answers the question is quoted instead. Without one it streams.
    """
    from lbrxvoicepro.llm.prompt import citation_list
    from lbrxvoicepro.llm.rag import answer, grounded_answer

    settings = with_llm(ctx.obj, llm, model)
    llm_settings = settings.llm
    models = _models(settings)
    if no_kb:
        _, deltas = answer(question, models.chat_model(), llm_settings)
        for delta in deltas:
            typer.echo(delta, nl=False)
        typer.echo()
        return
    require_kb(settings, kb)
    knowledge_base = models.knowledge_base(kb)
    if not knowledge_base.documents():
        typer.echo(
            f"warning: knowledge base {knowledge_base.name!r} is empty; answering without passages",
            err=True,
        )
    prompt, grounded = grounded_answer(
        question, models.chat_model(), llm_settings, knowledge_base, k
    )
    typer.echo(grounded.text)
    if grounded.quoted:
        typer.echo(f"(the model's answer was not used: {grounded.reason})", err=True)
    cited = grounded.citations if llm_settings.grounding else None
    for line in citation_list(prompt.sources, cited):
        typer.echo(line)


def require_kb(settings: Settings, name: str | None) -> None:
    """A clear error for a knowledge base that does not exist (SQLite would create it)."""
    from lbrxvoicepro.kb.base import knowledge_base_names

    name = name or settings.kb.default
    if name not in knowledge_base_names(settings.kb):
        raise KnowledgeBaseError(
            f"no knowledge base named {name!r}; "
            f"create it with: lbrxvoicepro kb add FILES --kb {name}"
        )
