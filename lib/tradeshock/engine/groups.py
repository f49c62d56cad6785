"""Tests on parts of one event-study panel: per observation, and per group of observations.

:func:`tradeshock.engine.study.event_study` runs a whole panel of ``(security, day 0)``
observations in one call (ids such as ``"AAPL@2025-04-09"``), and its result tests the whole
cross-section at once. A calendar study needs finer cuts of the same result, without
re-estimating anything:

* :func:`security_car_t`: the t statistic of each observation's own CAR over its own window (the
  windows may differ per observation), with the estimation-error term (also the method
  ``EventStudyResult.security_car_t``);
* :func:`group_car_tests`: the CAR test battery of :mod:`tradeshock.engine.inference` run on each
  group of observations (e.g. the S&P 500 members on one event session: they share one date, so
  the Kolari-Pynnönen adjustment applies; also the method ``EventStudyResult.group_car_tests``).

Both read a result's ``data`` (an :class:`~tradeshock.engine.inference.EventData`) and
``estimates``. Returns are simple returns as fractions; CARs are sums of abnormal returns.
(Formerly ``tradeshock.analyses.panel_tests``; the engine owns them now.)
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence

import numpy as np
import pandas as pd

from tradeshock.engine import inference
from tradeshock.errors import StudyError

__all__ = ["group_car_tests", "security_car_t", "slice_event_data"]


def _as_bounds(result, windows, what: str) -> tuple[np.ndarray, np.ndarray]:
    n = result.n_securities
    if isinstance(windows, Mapping):
        ids = result.securities
        missing = [i for i in ids if i not in windows]
        if missing:
            raise StudyError(f"{what}: no window for observation(s) {missing[:5]}")
        a = np.array([int(windows[i][0]) for i in ids])
        b = np.array([int(windows[i][1]) for i in ids])
    else:
        arr = np.asarray(windows)
        if arr.shape == (2,):
            a, b = np.full(n, int(arr[0])), np.full(n, int(arr[1]))
        elif arr.shape == (n, 2):
            a, b = arr[:, 0].astype(int), arr[:, 1].astype(int)
        else:
            raise StudyError(
                f"{what}: give one (start, end) pair, one pair per observation ({n}), or a "
                f"mapping id -> (start, end); got shape {arr.shape}"
            )
    days = result.days
    if (a > b).any():
        raise StudyError(f"{what}: a window starts after it ends")
    if a.min() < days[0] or b.max() > days[-1]:
        raise StudyError(
            f"{what}: windows reach days {a.min()}..{b.max()}, outside the event window "
            f"{days[0]}..{days[-1]} of the study; widen its event window"
        )
    return a, b


def security_car_t(result, windows) -> pd.DataFrame:
    """The standardized CAR of each observation over its own window, with a t p-value.

    ``windows``: one ``(start, end)`` pair of day offsets for all observations, an ``(N, 2)`` array
    in the order of ``result.securities``, or a mapping ``id -> (start, end)``.

    ``CAR_i`` is the sum of the observation's abnormal returns on the window's ``L_i`` days and
    ``se_i = s_i sqrt(L_i + xs_i' (X_i'X_i)^-1 xs_i)``, with ``s_i`` the OLS standard error of the
    normal-return regression (``SSR / (T_i - k_i)``, ``result.estimates.resid_sd``), ``X_i`` its
    estimation-window regressors and ``xs_i`` the sum of the regressors over the window's days: the
    variance of a sum of ``L_i`` out-of-sample forecast errors (serially uncorrelated
    disturbances). For the constant-mean model (``X`` a column of ones) this is
    ``s_i**2 (L_i + L_i**2 / T_i)``, for market-adjusted returns (nothing estimated) ``s_i**2 L_i``.
    ``t_i = CAR_i / se_i`` is distributed t with ``T_i - k_i`` degrees of freedom under normal
    disturbances (Campbell, Lo and MacKinlay 1997, The Econometrics of Financial Markets, ch. 4,
    eqs. 4.4.12-4.4.14 for the market model and section 4.4.1 for the constant mean; MacKinlay
    1997, Journal of Economic Literature 35(1), 13-39).

    Computed by the engine's per-security test,
    :func:`tradeshock.engine.inference.car_by_security`, once per distinct window. Returns
    ``security, window_start, window_end, n_days, car, se, statistic, dof, p_value`` (two-sided),
    in the order of ``result.securities``; NaN where an observation has no return in its window.
    """
    a, b = _as_bounds(result, windows, "security_car_t")
    n = result.n_securities
    car, se, t, p = (np.full(n, np.nan) for _ in range(4))
    L = np.zeros(n, dtype=int)
    pairs = np.column_stack([a, b])
    data = result.data
    for w in np.unique(pairs, axis=0):  # the engine's one per-security test, once per window
        cols = np.flatnonzero((a == w[0]) & (b == w[1]))
        sub = data if cols.size == n else slice_event_data(data, cols)  # only its observations
        tab = inference.car_by_security(sub, [(int(w[0]), int(w[1]))])
        pos = cols[tab["security"].to_numpy(dtype=int)]
        car[pos], se[pos] = tab["car"].to_numpy(), tab["se"].to_numpy()
        t[pos], p[pos] = tab["statistic"].to_numpy(), tab["p_value"].to_numpy()
        L[pos] = tab["n_days"].to_numpy()
    dof = (result.estimates["n_obs"].to_numpy(dtype=float)
           - np.asarray(result.data.n_params, dtype=float))
    return pd.DataFrame(
        {
            "security": result.securities,
            "window_start": a,
            "window_end": b,
            "n_days": L,
            "car": car,
            "se": se,
            "statistic": t,
            "dof": dof.astype(int),
            "p_value": p,
        }
    )


def slice_event_data(data: inference.EventData, cols: np.ndarray) -> inference.EventData:
    """The :class:`EventData` of the observations in columns ``cols`` (positions).

    A run of consecutive positions (observations listed group by group, as :func:`event_study`
    keeps them in input order) is taken as a slice; other selections by fancy indexing. Either
    way the arrays handed to the battery are C-contiguous copies.
    """
    cols = np.asarray(cols, dtype=int)
    sel: slice | np.ndarray = cols
    if cols.size and cols[-1] - cols[0] == cols.size - 1 and (np.diff(cols) == 1).all():
        sel = slice(int(cols[0]), int(cols[-1]) + 1)

    def take(a):
        return None if a is None else np.ascontiguousarray(np.asarray(a)[:, sel])

    return inference.EventData(
        ar_est=take(data.ar_est),
        ar_event=take(data.ar_event),
        days=np.asarray(data.days),
        n_params=np.asarray(data.n_params)[sel],
        x_est=take(data.x_est),
        x_event=take(data.x_event),
        dates=None,
    )


def group_car_tests(
    result,
    groups: Mapping[Hashable, Sequence[str]],
    windows: Sequence[tuple[int, int]] | Mapping[Hashable, Sequence[tuple[int, int]]],
    tests: Sequence[str] | None = None,
    *,
    n_boot: int = 2000,
    seed: int | None = 0,
    rbar: bool = True,
) -> pd.DataFrame:
    """Run the CAR test battery on each group of observations of one event-study result.

    ``groups`` maps a key to observation ids (``result.securities``); ids the study excluded are
    left out (the ``n`` column says how many remained). ``windows`` is a list of ``(start, end)``
    day offsets for every group, or a mapping key -> list. ``tests`` are names of
    :data:`tradeshock.engine.inference.CAR_TESTS` (default all, the full battery); each test's
    formula and paper are in its docstring there (e.g. Boehmer, Musumeci and Poulsen 1991 for
    ``boehmer``; Kolari and Pynnönen 2010, Review of Financial Studies 23(11), for
    ``kolari_pynnonen``, whose average cross-correlation is computed within the group, as it must
    be for observations that share one date). The bootstrap uses ``seed`` for every group.

    Returns the tidy frame of :func:`tradeshock.engine.inference.car_tests` with a ``group``
    column first and, with ``rbar=True``, ``rbar``: the group's average off-diagonal correlation
    of estimation-window residuals (:func:`tradeshock.engine.inference.average_cross_correlation`).
    Groups with fewer than two observations left are skipped.
    """
    pos = {s: i for i, s in enumerate(result.securities)}
    data = result.data
    frames = []
    for key, ids in groups.items():
        cols = np.array([pos[i] for i in ids if i in pos], dtype=int)
        if cols.size < 2:
            continue
        wins = windows[key] if isinstance(windows, Mapping) else windows
        sub = slice_event_data(data, cols)
        rb = inference.average_cross_correlation(sub.ar_est) if rbar else None
        tab = inference.car_tests(sub, list(wins), tests, n_boot=n_boot, seed=seed,
                                  rbar_all=rb)  # computed once, for the column and KP
        tab.insert(0, "group", [key] * len(tab))
        if rbar:
            tab["rbar"] = rb
        frames.append(tab)
    if not frames:
        raise StudyError("group_car_tests: no group has two or more observations in the result")
    return pd.concat(frames, ignore_index=True)
