"""``python -m lbrxvoicepro.cli``."""

from lbrxvoicepro.cli import main

main()
