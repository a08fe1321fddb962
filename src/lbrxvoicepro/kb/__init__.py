"""Knowledge bases: documents in, ranked passages out (hybrid BM25 + embeddings)."""

from lbrxvoicepro.kb.base import AddReport, KnowledgeBase
from lbrxvoicepro.kb.retriever import Hit, HybridRetriever, QueryBatcher

__all__ = ["AddReport", "Hit", "HybridRetriever", "KnowledgeBase", "QueryBatcher"]
