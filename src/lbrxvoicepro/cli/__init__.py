"""The ``lbrxvoicepro`` command."""

from lbrxvoicepro.cli.app import app, main

__all__ = ["app", "main"]
