"""The child process that runs embedded llama.cpp for ``SupervisedChatModel``.

``python -m lbrxvoicepro.llm.worker MODEL CONTEXT THREADS``: one JSON object per line in on
stdin, one per line out on the original stdout (llama.cpp's own output is sent to stderr, so a
native print cannot break the protocol). A native crash here kills only this process.

Requests: ``{"op": "count", "text"}`` → ``{"count"}``; ``{"op": "stream", "id", "messages",
"max_tokens", "temperature"}`` → ``{"delta"}``… then ``{"done"}`` or ``{"error"}``;
``{"op": "stop", "id"}`` ends that stream early. The first line out is ``{"ready"}`` or
``{"error"}``. End of stdin (the parent is gone) ends the process.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import signal
import sys
import threading
from pathlib import Path
from typing import Any, TextIO

from lbrxvoicepro.errors import LbrxError
from lbrxvoicepro.llm.base import ChatMessage


def main(argv: list[str]) -> None:
    # Ctrl-C in a terminal reaches the whole process group: the parent decides, and this
    # process ends when the parent closes its stdin (or writing to the parent fails).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        _serve(argv)
    except BrokenPipeError:
        os._exit(0)


def _serve(argv: list[str]) -> None:
    protocol = os.fdopen(os.dup(sys.stdout.fileno()), "w", encoding="utf-8", buffering=1)
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    logging.basicConfig(level=logging.ERROR, format="llama.cpp: %(message)s")
    model_path, context_tokens, threads = Path(argv[0]), int(argv[1]), int(argv[2])

    def send(message: dict[str, Any]) -> None:
        protocol.write(json.dumps(message, ensure_ascii=False) + "\n")

    try:
        from lbrxvoicepro.llm.llama import LlamaCppChatModel

        model = LlamaCppChatModel(model_path, context_tokens, threads)
    except LbrxError as error:
        send({"error": str(error), "kind": type(error).__name__})
        return
    send({"ready": {"base_model": model.base_model}})
    requests: queue.Queue[dict[str, Any] | None] = queue.Queue()
    stopped: set[int] = set()
    threading.Thread(target=_read, args=(sys.stdin, requests, stopped), daemon=True).start()
    while (request := requests.get()) is not None:
        if request["op"] == "count":
            send({"count": model.count_tokens(request["text"])})
            continue
        messages = [ChatMessage(role, content) for role, content in request["messages"]]
        try:
            for delta in model.stream(messages, request["max_tokens"], request["temperature"]):
                if request["id"] in stopped:
                    break
                send({"delta": delta})
            send({"done": True})
        except LbrxError as error:
            send({"error": str(error), "kind": type(error).__name__})
        stopped.discard(request["id"])


def _read(stdin: TextIO, requests: queue.Queue[dict[str, Any] | None], stopped: set[int]) -> None:
    """Requests go to the main loop in order; a stop is seen at once, mid-answer."""
    for line in stdin:
        message = json.loads(line)
        if message["op"] == "stop":
            stopped.add(message["id"])
        else:
            requests.put(message)
    os._exit(0)  # the parent closed the pipe: nobody is left to answer


if __name__ == "__main__":
    main(sys.argv[1:])
