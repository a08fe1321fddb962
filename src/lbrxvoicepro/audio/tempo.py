"""Speech faster or slower at the same pitch: FFmpeg's ``atempo`` filter through PyAV."""

from __future__ import annotations

import itertools

import numpy as np

from lbrxvoicepro.types import Audio

ATEMPO_RANGE = (0.5, 2.0)
"""What one ``atempo`` filter does well; other speeds chain several."""


def change_speed(audio: Audio, speed: float) -> Audio:
    """``audio`` played ``speed`` times as fast (0.25 to 4), its pitch kept."""
    if not 0.25 <= speed <= 4.0:
        raise ValueError(f"speed {speed} is outside 0.25 to 4")
    if speed == 1.0 or not len(audio.samples):
        return audio
    import av
    import av.filter

    graph = av.filter.Graph()
    rate = audio.sample_rate
    nodes = [graph.add_abuffer(format="flt", sample_rate=rate, layout="mono")]
    low, high = ATEMPO_RANGE
    remaining = speed
    while not low <= remaining <= high:
        step = low if remaining < low else high
        nodes.append(graph.add("atempo", str(step)))
        remaining /= step
    nodes += [graph.add("atempo", str(remaining)), graph.add("abuffersink")]
    for source, sink in itertools.pairwise(nodes):
        source.link_to(sink)
    graph.configure()
    frame = av.AudioFrame.from_ndarray(
        audio.samples.astype(np.float32)[np.newaxis, :], format="flt", layout="mono"
    )
    frame.sample_rate, frame.pts = rate, 0
    graph.push(frame)
    graph.push(None)
    pieces = []
    while True:
        try:
            pieces.append(graph.pull().to_ndarray()[0])
        except (av.error.EOFError, av.error.BlockingIOError):
            break
    return Audio(np.concatenate(pieces) if pieces else np.zeros(0, np.float32), rate)
