"""House style of figures (analyses/figures.py): every line told apart, whatever the count."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from tradeshock.analyses.figures import PALETTE, plot_levels  # noqa: E402


def test_nine_or_more_series_never_share_colour_and_line_style():
    # synthetic levels (not market data): 12 series on 20 business days
    idx = pd.bdate_range("2025-03-03", periods=20)
    levels = pd.DataFrame(100 + np.arange(20)[:, None] * np.arange(1, 13), index=idx,
                          columns=[f"S{i}" for i in range(12)])
    fig, ax = plot_levels(levels, title="test", ylabel="level", yunits="points")
    looks = [(line.get_color(), line.get_linestyle()) for line in ax.get_lines()
             if line.get_label() in levels.columns]
    assert len(looks) == 12 and len(set(looks)) == 12
    # the first eight keep the palette's colours, solid, as before
    assert [c for c, _ in looks[:8]] == PALETTE and {s for _, s in looks[:8]} == {"-"}
