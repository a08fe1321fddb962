"""Text utilities: normalization for scoring, WER and CER."""

from lbrxvoicepro.text.scoring import cer, normalize_for_scoring, wer

__all__ = ["cer", "normalize_for_scoring", "wer"]
