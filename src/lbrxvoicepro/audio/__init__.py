"""Audio in and out: decode any common format, downmix, resample, encode."""

from lbrxvoicepro.audio.io import (
    AudioSource,
    DecodeLimits,
    decode,
    encode,
    load,
    resample,
    source_name,
)

__all__ = ["AudioSource", "DecodeLimits", "decode", "encode", "load", "resample", "source_name"]
