"""The HTTP and WebSocket server: ``create_app(settings)``; ``lbrxvoicepro serve`` runs it."""

from lbrxvoicepro.server.app import create_app

__all__ = ["create_app"]
