"""Local language models behind one ``ChatModel`` protocol."""

from lbrxvoicepro.llm.base import ChatMessage, ChatModel, astream, complete

__all__ = ["ChatMessage", "ChatModel", "astream", "complete"]
