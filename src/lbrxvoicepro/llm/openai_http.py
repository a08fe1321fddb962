"""Any OpenAI-compatible chat server: Ollama, LM Studio, llama.cpp server, vLLM, mlx_lm.server.

One client (the ``openai`` SDK) with a configurable base URL and model; answers stream as
server-sent events.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from lbrxvoicepro.config import LlmSettings
from lbrxvoicepro.errors import LLMError
from lbrxvoicepro.llm.base import ChatMessage


class OpenAIChatModel:
    def __init__(self, settings: LlmSettings) -> None:
        import openai

        self._openai = openai
        self.settings = settings
        self._client = openai.OpenAI(
            base_url=settings.base_url,
            api_key=settings.api_key,
            timeout=settings.timeout_s,
            max_retries=2,
        )

    @property
    def name(self) -> str:
        return f"{self.settings.model} at {self.settings.base_url}"

    @property
    def context_tokens(self) -> int:
        return self.settings.context_tokens

    def count_tokens(self, text: str) -> int:
        """An estimate (the server's tokenizer is not at hand): 3 characters per token."""
        return len(text) // 3 + 1

    def stream(
        self, messages: Sequence[ChatMessage], max_tokens: int, temperature: float
    ) -> Iterator[str]:
        try:
            events = self._client.chat.completions.create(
                model=self.settings.model,
                messages=[{"role": m.role, "content": m.content} for m in messages],  # type: ignore[misc]
                max_tokens=max_tokens,
                temperature=temperature,
                stream=True,
            )
            for event in events:
                choices = getattr(event, "choices", None)
                if choices and choices[0].delta.content:
                    yield choices[0].delta.content
        except self._openai.APIConnectionError as error:
            raise LLMError(
                f"cannot reach the LLM server at {self.settings.base_url}: {error}"
            ) from error
        except self._openai.APIStatusError as error:
            raise LLMError(
                f"the LLM server at {self.settings.base_url} answered {error.status_code}: "
                f"{error.message}"
            ) from error
