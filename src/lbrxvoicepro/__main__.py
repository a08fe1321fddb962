"""``python -m lbrxvoicepro`` runs the command line."""

from lbrxvoicepro.cli import main

main()
