"""Shared runtime: the one model manager."""

from lbrxvoicepro.runtime.manager import ModelManager

__all__ = ["ModelManager"]
