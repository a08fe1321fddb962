"""The encoder window fitted to the audio: content kept, padding made silence, never over 30 s."""

from __future__ import annotations

import numpy as np

from lbrxvoicepro.asr.window import fit_window


def _features(content: int) -> np.ndarray:
    features = np.zeros((80, 3000), dtype=np.float32)
    features[:, :content] = np.linspace(-0.5, 1.5, content, dtype=np.float32)
    return features


def test_a_short_clip_gets_the_minimum_window_with_silence_after_it() -> None:
    fitted = fit_window(_features(179), 1000)
    assert fitted.shape == (80, 1000)
    assert np.array_equal(fitted[:, :179], _features(179)[:, :179])
    assert np.allclose(fitted[:, 179:], 1.5 - 2.0)


def test_longer_content_keeps_all_of_it_in_whole_seconds_and_30_s_stays_30_s() -> None:
    assert fit_window(_features(2501), 1000).shape == (80, 2600)
    assert fit_window(_features(1230), 1000).shape == (80, 1300)
    assert fit_window(_features(3000), 1000).shape == (80, 3000)
    assert fit_window(_features(10), 3000).shape == (80, 3000)


def test_a_batch_is_cut_to_its_longest_item() -> None:
    batch = np.stack([_features(500), _features(1800)])
    fitted = fit_window(batch, 1000)
    assert fitted.shape == (2, 80, 1800)
    assert fit_window(np.stack([_features(500), _features(1801)]), 1000).shape == (2, 80, 1900)
    assert np.allclose(fitted[0, :, 500:], 1.5 - 2.0)
    assert np.array_equal(fitted[1], batch[1, :, :1800])


def test_a_short_clip_gets_four_times_its_length_in_whole_seconds_but_never_under_4_s() -> None:
    assert fit_window(_features(179), 1000, per_content=4.0).shape == (80, 800)
    assert fit_window(_features(89), 1000, per_content=4.0).shape == (80, 400)
    assert fit_window(_features(240), 1000, per_content=4.0).shape == (80, 1000)
    assert fit_window(_features(1230), 1000, per_content=4.0).shape == (80, 1300)
    fitted = fit_window(_features(179), 1000, per_content=4.0)
    assert np.allclose(fitted[:, 179:], 1.5 - 2.0)
