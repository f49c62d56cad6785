"""The event-study test battery: AAR tests per event day, CAAR tests per window, p-values.

Input is an :class:`EventData` (abnormal returns of ``N`` securities in the estimation window and
in the event window, as arrays); output is a tidy :class:`pandas.DataFrame` with one row per day
(or window) and test. Every statistic comes with a two-sided p-value and the reference
distribution it is read from is stated in the docstring of the test (``N(0,1)``, ``t(dof)`` or
exact).

Conventions shared by all tests
-------------------------------
* Rows of the arrays are common calendar dates when every security shares one event date, and
  event-time positions when event dates differ; the tests do not care which, but the
  cross-sectional statistics (Brown-Warner 1985, Lamb, Corrado's ranks and signs, Kolari-Pynnönen)
  only make sense as "same date" statistics in the first case.
* ``NaN`` marks a missing abnormal return. Missing data are masked per security with array
  algebra (no Python loop over securities): each test uses, on each day, the securities that have
  every input it needs (the day's abnormal return and, for standardized tests, an estimation-window
  standard deviation); the column ``n`` reports how many did.
* ``T_i`` is the number of non-missing estimation-window residuals of security ``i`` and
  ``s_i`` their sample standard deviation with denominator ``T_i - 1`` (R's ``sd``, as estudy2).
  ``k_i`` is ``n_params[i]``.
* Forecast-error correction: the variance of an out-of-sample abnormal return is
  ``s_i**2 * C_it`` with ``C_it = 1 + x_it' (X_i'X_i)^-1 x_it`` (Patell 1976), where ``X_i`` holds
  the estimation-window regressors of security ``i`` (rows where both the residual and the
  regressors are present) and ``x_it`` the same regressors on event row ``t``. For the market model
  this is ``1 + 1/T_i + (m_t - mbar)**2 / sum((m - mbar)**2)``, the factor estudy2 uses. Without
  regressors (``x_est is None``) ``C_it = 1`` for ``k_i = 0`` (market-adjusted returns: nothing
  estimated) and ``1 + 1/T_i`` for ``k_i = 1`` (constant mean). For a CAR over ``L_i`` days the
  variance is ``s_i**2 * (L_i + xs_i' (X_i'X_i)^-1 xs_i)`` with ``xs_i`` the sum of ``x_it`` over
  the window's days (serially uncorrelated disturbances assumed).
* Daily definitions follow R's estudy2 (version 0.10.0) unless a paper says otherwise; the CSV
  fixtures in ``tests/results/estudy2`` are matched to 1e-8. Where estudy2's code and the papers
  disagree, or estudy2 mishandles missing data, the docstring of the test says which way tradeshock
  goes and why. With complete data every estudy2 statistic is reproduced exactly.

The daily battery is :data:`DAILY_TESTS`, the window battery :data:`CAR_TESTS`;
:func:`adjust_pvalues` adds Holm or Benjamini-Hochberg adjusted p-values across days and windows.
:func:`car_by_security` tests each security's own CAR (with its standard error and confidence
interval): the one per-security test the analyses and figures use.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd
from scipy import stats

from tradeshock.errors import InferenceError

__all__ = [
    "EventData",
    "InferenceError",
    "DAILY_TESTS",
    "CAR_TESTS",
    "daily_tests",
    "car_tests",
    "car_by_security",
    "adjust_pvalues",
    "average_cross_correlation",
]


@dataclass(frozen=True)
class EventData:
    """Abnormal returns of ``N`` securities, the input of every test.

    Attributes:
        ar_est: ``(L1, N)`` estimation-window abnormal returns (model residuals); NaN = missing.
        ar_event: ``(L2, N)`` event-window abnormal returns; NaN = missing.
        days: ``(L2,)`` integer event-time offsets of the event rows, e.g. ``-1..5``.
        n_params: ``(N,)`` parameters estimated per security: 0 market-adjusted, 1 constant mean,
            2 market model, ``k + 1`` factor model.
        x_est: ``(L1, N, k)`` regressors (including the intercept column) used in estimation,
            NaN-masked; ``None`` for market-adjusted returns (and allowed for the constant mean).
        x_event: ``(L2, N, k)`` the same regressors on the event rows, for the forecast-error
            correction ``1 + x_t'(X'X)^-1 x_t``.
        dates: ``(L2,)`` dates of the event rows when all securities share one event date.
    """

    ar_est: np.ndarray
    ar_event: np.ndarray
    days: np.ndarray
    n_params: np.ndarray
    x_est: np.ndarray | None = None
    x_event: np.ndarray | None = None
    dates: np.ndarray | None = None


DAILY_TESTS: tuple[str, ...] = (
    "brown_warner_1980",
    "brown_warner_1985",
    "t_test",
    "patell",
    "boehmer",
    "lamb",
    "sign",
    "generalized_sign",
    "corrado_sign",
    "rank",
    "modified_rank",
    "wilcoxon",
    "kolari_pynnonen",
)

CAR_TESTS: tuple[str, ...] = (
    "brown_warner_1985",
    "t_test",
    "patell",
    "boehmer",
    "kolari_pynnonen",
    "lamb",
    "rank",
    "grank",
    "generalized_sign",
    "wilcoxon",
    "sign",
    "bootstrap",
)

# --------------------------------------------------------------------------------------------
# small array helpers (all NaN-aware through explicit masks, no warnings)
# --------------------------------------------------------------------------------------------


def _p_norm(z: np.ndarray | float) -> np.ndarray:
    """Two-sided p-value of a standard normal statistic."""
    return 2.0 * stats.norm.sf(np.abs(z))


def _p_t(t: np.ndarray | float, df: np.ndarray | float) -> np.ndarray:
    """Two-sided p-value of a Student t statistic; NaN where ``df <= 0``."""
    t = np.asarray(t, dtype=float)
    df = np.broadcast_to(np.asarray(df, dtype=float), t.shape)
    out = np.full(t.shape, np.nan)
    ok = np.isfinite(t) & (df > 0)
    out[ok] = 2.0 * stats.t.sf(np.abs(t[ok]), df[ok])
    return out


def _moments(a: np.ndarray, mask: np.ndarray, axis: int) -> tuple[np.ndarray, ...]:
    """Count, mean and sample variance (denominator n - 1) of ``a[mask]`` along ``axis``."""
    n = mask.sum(axis=axis)
    z = np.where(mask, a, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = z.sum(axis=axis) / n
        dev = np.where(mask, a - np.expand_dims(mean, axis), 0.0)
        var = (dev * dev).sum(axis=axis) / (n - 1)
    var = np.where(n > 1, var, np.nan)
    mean = np.where(n > 0, mean, np.nan)
    return n, mean, var


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.asarray(num, dtype=float) / den
    return np.where(np.isfinite(out), out, np.nan)


def _ranks(a: np.ndarray, axis: int) -> np.ndarray:
    """Average ranks (ties share the mean rank, as R's ``rank``) with NaN kept as NaN."""
    if np.isfinite(a).all():
        return stats.rankdata(a, axis=axis)
    return stats.rankdata(a, axis=axis, nan_policy="omit")


def _pairwise_corr(
    z: np.ndarray, mf: np.ndarray, rows: np.ndarray, cols: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Pairwise-complete correlations of columns ``rows`` against columns ``cols``.

    ``z`` holds the data with missing cells set to 0 and ``mf`` the 0/1 mask of present cells.
    """
    zr, mr, zc, mc = z[:, rows], mf[:, rows], z[:, cols], mf[:, cols]
    n_ij = mr.T @ mc  # common observations
    sx = zr.T @ mc  # sum of x_i over the rows where j is present
    sy = mr.T @ zc  # sum of x_j over the rows where i is present
    sxy = zr.T @ zc
    sxx = (zr * zr).T @ mc
    syy = mr.T @ (zc * zc)
    with np.errstate(invalid="ignore", divide="ignore"):
        cov = sxy - sx * sy / n_ij
        vx = sxx - sx * sx / n_ij
        vy = syy - sy * sy / n_ij
        r = cov / np.sqrt(vx * vy)
    valid = (n_ij >= 3) & (vx > 0) & (vy > 0) & np.isfinite(r)
    return r, valid


def average_cross_correlation(residuals: np.ndarray, *, block: int = 256) -> float:
    """Average pairwise correlation of the columns of ``residuals``, off-diagonal pairs only.

    This is the ``rbar`` of Kolari and Pynnönen (2010): the mean over the ``N(N-1)`` ordered pairs
    ``i != j`` of the sample correlation of the estimation-window residuals of securities ``i`` and
    ``j``. Including the diagonal (the ones of ``corr(i, i)``) is a known trap: it adds
    ``(1 - rbar) / N`` and over-corrects. Correlations are pairwise-complete (as
    ``pandas.DataFrame.corr``); pairs with fewer than three common observations or a constant
    series are skipped.

    Among securities without missing residuals it uses the identity
    ``sum_{i != j} r_ij = ||sum_i u_i||**2 - N`` for unit-norm centred columns ``u_i`` (``O(TN)``);
    only the pairs that involve a security with missing residuals are computed one by one, in
    blocks of matrix products (``O(TN)`` per such security).

    Reference: Kolari J.W., Pynnönen S. (2010), Event study testing with cross-sectional
    correlation of abnormal returns, Review of Financial Studies 23(11), 3996-4025.
    """
    x = np.asarray(residuals, dtype=float)
    if x.ndim != 2:
        raise InferenceError(f"residuals must be 2-D (rows x securities); got shape {x.shape}")
    m = np.isfinite(x)
    keep = m.sum(axis=0) >= 3
    x, m = x[:, keep], m[:, keep]
    complete = m.all(axis=0)
    if complete.any():
        xc = x[:, complete]
        dev = xc - xc.mean(axis=0)
        norm = np.sqrt((dev * dev).sum(axis=0))
        varies = norm > 0
        idx = np.flatnonzero(complete)
        complete[idx[~varies]] = False  # constant series: no correlation defined
        u = dev[:, varies] / norm[varies]
        n_c = u.shape[1]
        s = u.sum(axis=1)
        total, count = float(s @ s - n_c), n_c * (n_c - 1)
    else:
        total, count = 0.0, 0
    inc = np.flatnonzero(~m.all(axis=0))
    if inc.size:
        z = np.where(m, x, 0.0)
        mf = m.astype(float)
        comp_idx = np.flatnonzero(complete)
        for b in range(0, inc.size, block):
            rows = inc[b : b + block]
            # incomplete x complete: each unordered pair counts twice (i, j) and (j, i)
            if comp_idx.size:
                r, ok = _pairwise_corr(z, mf, rows, comp_idx)
                total += 2.0 * float(r[ok].sum())
                count += 2 * int(ok.sum())
            # incomplete x incomplete: the loop visits both orders itself
            r, ok = _pairwise_corr(z, mf, rows, inc)
            ok[np.arange(rows.size), b + np.arange(rows.size)] = False  # the diagonal
            total += float(r[ok].sum())
            count += int(ok.sum())
    return total / count if count else float("nan")


# --------------------------------------------------------------------------------------------
# the prepared panel: validated arrays and the quantities several tests share
# --------------------------------------------------------------------------------------------


class _Panel:
    def __init__(self, data: EventData):
        if not isinstance(data, EventData):
            raise InferenceError(
                f"expected an EventData, got {type(data).__name__}; build one with "
                "tradeshock.engine.inference.EventData(ar_est=..., ar_event=..., days=..., n_params=...)"
            )
        E = np.asarray(data.ar_est, dtype=float)
        A = np.asarray(data.ar_event, dtype=float)
        if E.ndim != 2 or A.ndim != 2:
            raise InferenceError(
                f"EventData.ar_est and ar_event must be 2-D (rows x securities); got shapes "
                f"{E.shape} and {A.shape}"
            )
        if E.shape[1] != A.shape[1]:
            raise InferenceError(
                f"EventData.ar_est has {E.shape[1]} securities (columns) but ar_event has "
                f"{A.shape[1]}; both must hold the same securities in the same order"
            )
        L1, N = E.shape
        L2 = A.shape[0]
        days = np.asarray(data.days)
        if days.shape != (L2,):
            raise InferenceError(
                f"EventData.days must have one entry per event row ({L2}); got shape {days.shape}"
            )
        if not np.issubdtype(days.dtype, np.integer):
            if not np.all(np.isfinite(days)) or not np.all(days == np.round(days)):
                raise InferenceError(f"EventData.days must be integer offsets; got {days!r}")
            days = days.astype(int)
        k = np.asarray(data.n_params)
        if k.shape != (N,):
            raise InferenceError(
                f"EventData.n_params must have one entry per security ({N}); got shape {k.shape}"
            )
        if not np.all(np.isfinite(k)) or np.any(k < 0) or not np.all(k == np.round(k)):
            raise InferenceError(f"EventData.n_params must be integers >= 0; got {k!r}")
        k = k.astype(int)
        xe, xv = data.x_est, data.x_event
        if (xe is None) != (xv is None):
            raise InferenceError(
                "EventData.x_est and x_event must be given together (the regressors of the "
                "estimation window and of the event window) or both be None"
            )
        if xe is not None:
            xe = np.asarray(xe, dtype=float)
            xv = np.asarray(xv, dtype=float)
            if xe.ndim != 3 or xe.shape[:2] != (L1, N):
                raise InferenceError(
                    f"EventData.x_est must have shape (L1, N, k) = ({L1}, {N}, k); got {xe.shape}"
                )
            if xv.shape != (L2, N, xe.shape[2]):
                raise InferenceError(
                    f"EventData.x_event must have shape (L2, N, k) = ({L2}, {N}, {xe.shape[2]}); "
                    f"got {xv.shape}"
                )
        elif np.any(k > 1):
            raise InferenceError(
                "EventData.x_est/x_event are None but some securities have n_params > 1; the "
                "forecast-error correction of a regression model needs its regressors"
            )
        if data.dates is not None and len(data.dates) != L2:
            raise InferenceError(
                f"EventData.dates must have one entry per event row ({L2}); got {len(data.dates)}"
            )
        self.E, self.A, self.days, self.k = E, A, days, k
        self.x_est, self.x_event = xe, xv
        self.dates = data.dates
        self.L1, self.L2, self.N = L1, L2, N
        self.mE = np.isfinite(E)
        self.mA = np.isfinite(A)

    # ---- estimation-window moments -----------------------------------------------------------
    @cached_property
    def est_moments(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return _moments(self.E, self.mE, axis=0)

    @property
    def T(self) -> np.ndarray:
        return self.est_moments[0]

    @cached_property
    def s(self) -> np.ndarray:
        """Sample sd (ddof=1) of each security's estimation residuals; NaN if undefined or 0."""
        var = self.est_moments[2]
        return np.where(var > 0, np.sqrt(np.where(var > 0, var, 1.0)), np.nan)

    @cached_property
    def patell_var(self) -> np.ndarray:
        """Variance ``(T-k)/(T-k-2)`` of a standardized abnormal return (t with T-k dof)."""
        dof = self.T - self.k
        with np.errstate(invalid="ignore", divide="ignore"):
            v = dof / (dof - 2.0)
        return np.where(dof > 2, v, np.nan)

    @cached_property
    def s_ols(self) -> np.ndarray:
        """``sqrt(SSR_i / (T_i - k_i))``, the OLS standard error of the regression; NaN if undefined.

        ``SSR_i`` is the sum of squared estimation residuals (OLS residuals with an intercept
        average zero, so this is also their sum of squared deviations); for market-adjusted
        returns (``k_i = 0``) the sum of squared abnormal returns. Used by
        :func:`car_by_security` (exact t distribution); the cross-sectional tests use ``s``.
        """
        ssr = np.where(self.mE, self.E * self.E, 0.0).sum(axis=0)
        dof = self.T - self.k
        with np.errstate(invalid="ignore", divide="ignore"):
            s = np.sqrt(ssr / dof)
        return np.where((dof > 0) & (ssr > 0) & np.isfinite(s), s, np.nan)

    @cached_property
    def std_ok(self) -> np.ndarray:
        return np.isfinite(self.s) & np.isfinite(self.patell_var)

    # ---- forecast-error correction -----------------------------------------------------------
    @cached_property
    def xtx_inv(self) -> np.ndarray | None:
        if self.x_est is None:
            return None
        xe = self.x_est
        rows = np.isfinite(xe).all(axis=2) & self.mE  # (L1, N)
        z = np.where(rows[:, :, None], xe, 0.0)
        xtx = np.einsum("tni,tnj->nij", z, z)
        return np.linalg.pinv(xtx, hermitian=True)

    def _quad(self, x: np.ndarray) -> np.ndarray:
        """``x' (X'X)^-1 x`` for ``x`` of shape (R, N, k) -> (R, N)."""
        return np.einsum("rni,nij,rnj->rn", x, self.xtx_inv, x)

    @cached_property
    def c2(self) -> np.ndarray:
        """Forecast-error variance factor ``C_it`` of each event row, shape (L2, N)."""
        if self.x_event is not None:
            return 1.0 + self._quad(self.x_event)
        # no regressors: nothing estimated (k=0) or a constant mean (k=1)
        with np.errstate(divide="ignore"):
            extra = np.where(self.k == 1, 1.0 / self.T, 0.0)
        return np.broadcast_to(1.0 + extra, (self.L2, self.N)).copy()

    def car_var_factor(self, rows: np.ndarray, present: np.ndarray) -> np.ndarray:
        """``L_i + xs_i'(X'X)^-1 xs_i`` of a CAR over ``rows`` using the days in ``present``."""
        L = present.sum(axis=0).astype(float)
        if self.x_event is not None:
            xw = self.x_event[rows]
            xs = np.where(present[:, :, None], xw, 0.0).sum(axis=0)  # (N, k)
            bad = (present[:, :, None] & ~np.isfinite(xw)).any(axis=(0, 2))
            q = self._quad(xs[None])[0]
            q = np.where(bad, np.nan, q)
            return L + q
        with np.errstate(divide="ignore", invalid="ignore"):
            q = np.where(self.k == 1, L * L / self.T, 0.0)
        return L + q

    # ---- standardized abnormal returns ---------------------------------------------------------
    @cached_property
    def sar(self) -> np.ndarray:
        """Patell's standardized abnormal returns ``AR_it / (s_i sqrt(C_it))``; NaN if unusable."""
        with np.errstate(invalid="ignore", divide="ignore"):
            z = self.A / (self.s * np.sqrt(self.c2))
        ok = self.mA & self.std_ok & np.isfinite(z)
        return np.where(ok, z, np.nan)

    # ---- Brown-Warner 1985 portfolio sd --------------------------------------------------------
    @cached_property
    def bw85(self) -> tuple[float, float]:
        """(sd of the estimation-window AAR series, dof = its length - 1)."""
        n_t, aar_t, _ = _moments(self.E, self.mE, axis=1)
        present = n_t > 0
        n, _, var = _moments(aar_t, present, axis=0)
        sd = float(np.sqrt(var)) if np.isfinite(var) and var > 0 else float("nan")
        return sd, float(n - 1)

    @cached_property
    def aar(self) -> tuple[np.ndarray, np.ndarray]:
        n_t, aar_t, _ = _moments(self.A, self.mA, axis=1)
        return n_t, aar_t

    # ---- Kolari-Pynnönen ------------------------------------------------------------------------
    @cached_property
    def rbar(self) -> float:
        return average_cross_correlation(self.E[:, self.std_ok])

    # ---- generalized sign ----------------------------------------------------------------------
    @cached_property
    def p_hat(self) -> float:
        """Cowan's p-hat: average over securities of their share of positive estimation ARs."""
        pos = (self.E > 0) & self.mE
        has = self.T > 0
        if not has.any():
            return float("nan")
        share = pos.sum(axis=0)[has] / self.T[has]
        return float(share.mean())

    # ---- ranks over estimation + event rows (daily rank tests) ---------------------------------
    @cached_property
    def full(self) -> tuple[np.ndarray, np.ndarray]:
        F = np.vstack([self.E, self.A])
        return F, np.isfinite(F)

    @cached_property
    def full_ranks(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Ranks within each security over estimation + event rows, mask, non-missing counts."""
        F, M = self.full
        has = M.any(axis=0)
        F, M = F[:, has], M[:, has]
        return _ranks(F, axis=0), M, M.sum(axis=0)


# --------------------------------------------------------------------------------------------
# daily tests: each returns (statistic, p_value, n), arrays of length L2
# --------------------------------------------------------------------------------------------

_Result = tuple[np.ndarray, np.ndarray, np.ndarray]


def _daily_brown_warner_1980(p: _Panel) -> _Result:
    """Brown and Warner (1980): ``AAR_t / sqrt(sum_i s_i**2) * n_t`` (independence).

    ``stat_t = AAR_t / sqrt(sum_{i in t} s_i**2 / n_t**2)``, the sum over the ``n_t`` securities
    with an abnormal return on day ``t`` and an estimation variance (``T_i >= 2``). Reference
    distribution: t with ``mean(T_i) - 1`` dof (estudy2's critical values).

    Difference from estudy2: estudy2 divides ``sqrt(sum of all N variances)`` by the total ``N``
    even on days where some abnormal returns are missing; tradeshock uses the securities present
    that day. Identical with complete data.

    Reference: Brown S.J., Warner J.B. (1980), Measuring security price performance, Journal of
    Financial Economics 8, 205-258.
    """
    var = p.est_moments[2]
    use = p.mA & np.isfinite(var)[None, :]
    n, mean, _ = _moments(p.A, use, axis=1)
    sum_var = np.where(use, var[None, :], 0.0).sum(axis=1)
    stat = _ratio(mean, np.sqrt(sum_var) / n)
    dof = float(p.T[p.T > 0].mean()) - 1.0 if (p.T > 0).any() else np.nan
    return stat, _p_t(stat, dof), n


def _daily_brown_warner_1985(p: _Panel) -> _Result:
    """Brown and Warner (1985), crude dependence adjustment: ``AAR_t / S(AAR)``.

    ``S(AAR)`` is the sample sd (denominator ``T - 1``) of the time series of estimation-window
    average abnormal returns ``AAR_tau = mean_i AR_i,tau`` (each row averaged over the securities
    present), so cross-sectional correlation is absorbed. Reference distribution: t with
    ``T - 1`` dof, ``T`` the number of estimation rows with an AAR (the paper's choice; estudy2
    uses ``mean(T_i) - 1`` for its stars, the same number with complete data).

    Reference: Brown S.J., Warner J.B. (1985), Using daily stock returns: the case of event
    studies, Journal of Financial Economics 14, 3-31.
    """
    sd, dof = p.bw85
    n, aar = p.aar
    stat = _ratio(aar, sd)
    return stat, _p_t(stat, dof), n


def _daily_t_test(p: _Panel) -> _Result:
    """Cross-sectional t test: ``AAR_t / (sd_t / sqrt(n_t))``.

    ``sd_t`` is the cross-sectional sample sd (denominator ``n_t - 1``) of day ``t``'s abnormal
    returns. Reference distribution: t with ``n_t - 1`` dof. As estudy2's ``t_test``.

    Reference: Boehmer E., Musumeci J., Poulsen A.B. (1991), Event-study methodology under
    conditions of event-induced variance, Journal of Financial Economics 30(2), 253-272 (the
    "cross-sectional" test).
    """
    n, mean, var = _moments(p.A, p.mA, axis=1)
    stat = _ratio(mean * np.sqrt(n), np.sqrt(var))
    return stat, _p_t(stat, n - 1), n


def _daily_patell(p: _Panel) -> _Result:
    """Patell (1976) standardized-residual test with the forecast-error correction.

    ``SAR_it = AR_it / (s_i sqrt(C_it))`` and
    ``stat_t = sum_i SAR_it / sqrt(sum_i (T_i - k_i) / (T_i - k_i - 2))`` over the securities with
    an abnormal return on day ``t``. Reference distribution: N(0, 1).

    Deliberate choices:
      * ``s_i`` is the sample sd with denominator ``T_i - 1``, as estudy2 (``sd``) computes it;
        Patell's paper divides the residual sum of squares by ``T_i - 2`` (``T_i - k_i``). For
        OLS residuals (which average zero) tradeshock's and estudy2's statistic is therefore the
        paper's times ``sqrt((T - 1)/(T - k))`` when all ``T_i = T`` (0.28% for the market model
        and ``T = 180``), a slightly conservative test. tradeshock matches estudy2 so that the
        two tools' tables agree; the test suite checks the size of the difference.
      * The variance term sums over the securities present on day ``t`` (estudy2 sums over all
        ``N`` and scales the day's mean by the total ``N``); identical with complete data.
      * ``C_it`` is the general ``1 + x'(X'X)^-1 x``, so the test also runs for the constant-mean
        (``C = 1 + 1/T_i``), market-adjusted (``C = 1``) and factor models; estudy2 runs it for the
        market model only, where both coincide.

    Reference: Patell J.M. (1976), Corporate forecasts of earnings per share and stock price
    behavior: empirical tests, Journal of Accounting Research 14(2), 246-276.
    """
    z = p.sar
    use = np.isfinite(z)
    n = use.sum(axis=1)
    num = np.where(use, z, 0.0).sum(axis=1)
    den = np.where(use, p.patell_var[None, :], 0.0).sum(axis=1)
    stat = np.where(n > 0, _ratio(num, np.sqrt(den)), np.nan)
    return stat, _p_norm(stat), n


def _daily_boehmer(p: _Panel) -> _Result:
    """Boehmer, Musumeci and Poulsen (1991) standardized cross-sectional test.

    A cross-sectional t test on Patell's standardized abnormal returns ``SAR_it`` (with the
    forecast-error correction): ``mean_t(SAR) / (sd_t(SAR) / sqrt(n_t))``. Robust to
    event-induced variance, assumes cross-sectional independence. Reference distribution: t with
    ``n_t - 1`` dof. As estudy2's ``boehmer``.

    Reference: Boehmer E., Musumeci J., Poulsen A.B. (1991), Event-study methodology under
    conditions of event-induced variance, Journal of Financial Economics 30(2), 253-272.
    """
    z = p.sar
    n, mean, var = _moments(z, np.isfinite(z), axis=1)
    stat = _ratio(mean * np.sqrt(n), np.sqrt(var))
    return stat, _p_t(stat, n - 1), n


def _kp_factor(rbar: float, n: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        f = np.sqrt((1.0 - rbar) / (1.0 + (n - 1.0) * rbar))
    return np.where(np.isfinite(f), f, np.nan)


def _daily_kolari_pynnonen(p: _Panel) -> _Result:
    """Kolari and Pynnönen (2010) adjustment of the BMP test for cross-correlation.

    ``stat_t = BMP_t * sqrt((1 - rbar) / (1 + (n_t - 1) rbar))`` where ``rbar`` is the average
    correlation of the estimation-window residuals over the off-diagonal pairs ``i != j`` only
    (:func:`average_cross_correlation`; including the diagonal is a known trap). ``rbar`` is
    computed once over the securities with a usable estimation window. Essential when every
    security shares one event date. Reference distribution: t with ``n_t - 1`` dof, as for BMP.
    Not in estudy2.

    Reference: Kolari J.W., Pynnönen S. (2010), Event study testing with cross-sectional
    correlation of abnormal returns, Review of Financial Studies 23(11), 3996-4025.
    """
    bmp, _, n = _daily_boehmer(p)
    stat = bmp * _kp_factor(p.rbar, n)
    return stat, _p_t(stat, n - 1), n


def _daily_lamb(p: _Panel) -> _Result:
    """Lamb (1995): Brown-Warner 1985 with the forecast-error correction of the portfolio.

    ``stat_t = AAR_t / (S(AAR) * sqrt(Cbar_t))`` with ``S(AAR)`` as in Brown-Warner 1985 and
    ``Cbar_t`` the mean over the securities present on day ``t`` of ``C_it``. With one market
    index and equal estimation windows ``C_it`` is the same for every security and this is
    estudy2's ``lamb`` (``1 + 1/mean(T_i) + (m_t - mbar)**2 / Sxx``). For market-adjusted returns
    ``C = 1`` and Lamb equals Brown-Warner 1985. Reference distribution: N(0, 1) (estudy2).

    Reference: Lamb R.P. (1995), An exposure-based analysis of property-liability insurer stock
    values around Hurricane Andrew, Journal of Risk and Insurance 62(1), 111-123.
    """
    sd, _ = p.bw85
    c2 = p.c2
    use = p.mA & np.isfinite(c2)
    n, aar, _ = _moments(p.A, use, axis=1)
    _, cbar, _ = _moments(c2, use, axis=1)
    stat = _ratio(aar, sd * np.sqrt(cbar))
    return stat, _p_norm(stat), n


def _daily_sign(p: _Panel) -> _Result:
    """Sign test: ``(w_t - n_t/2) / sqrt(n_t/4)``, ``w_t`` the number of positive ARs.

    A zero abnormal return counts as not positive (as estudy2). Reference distribution: N(0, 1)
    (normal approximation to the binomial, as estudy2). Difference from estudy2: with missing
    returns estudy2 takes ``w_t = mean * N`` (total ``N``), tradeshock the count itself.

    Reference: Boehmer E., Musumeci J., Poulsen A.B. (1991), Journal of Financial Economics
    30(2), 253-272; Brown S.J., Warner J.B. (1980), Journal of Financial Economics 8, 205-258.
    """
    n = p.mA.sum(axis=1)
    w = ((p.A > 0) & p.mA).sum(axis=1)
    stat = _ratio(w - 0.5 * n, np.sqrt(0.25 * n))
    return stat, _p_norm(stat), n


def _daily_generalized_sign(p: _Panel) -> _Result:
    """Cowan (1992) generalized sign test: ``(w_t - n_t p) / sqrt(n_t p (1 - p))``.

    ``p`` is the expected share of positive abnormal returns, estimated from the estimation
    window as Cowan defines it: the average over securities of each security's share of positive
    residuals. estudy2 pools all security-days instead (the same number with complete data).
    Reference distribution: N(0, 1).

    Reference: Cowan A.R. (1992), Nonparametric event study tests, Review of Quantitative Finance
    and Accounting 2, 343-358.
    """
    n = p.mA.sum(axis=1)
    w = ((p.A > 0) & p.mA).sum(axis=1)
    ph = p.p_hat
    stat = _ratio(w - n * ph, np.sqrt(n * ph * (1.0 - ph)))
    return stat, _p_norm(stat), n


def _daily_corrado_sign(p: _Panel) -> _Result:
    """Corrado and Zivney (1992) sign test.

    ``G_it = sign(AR_it - median_i)``, the median over security ``i``'s estimation and event
    rows together; ``stat_t = (sum_i G_it / sqrt(n_t)) / S(G)`` with
    ``S(G) = sqrt(sum_tau (sum_i G_i,tau / sqrt(n_tau))**2 / Tbar)`` over all estimation and
    event rows and ``Tbar`` the mean number of non-missing rows per security. Reference
    distribution: N(0, 1). As estudy2's ``corrado_sign_test`` (estudy2 takes row sums as
    ``mean * N``, which differs only with missing data).

    Reference: Corrado C.J., Zivney T.L. (1992), The specification and power of the sign test in
    event study hypothesis tests using daily stock returns, Journal of Financial and Quantitative
    Analysis 27(3), 465-478.
    """
    F, M = p.full
    has = M.any(axis=0)
    F, M = F[:, has], M[:, has]
    med = np.nanmedian(np.where(M, F, np.nan), axis=0) if F.size else np.zeros(0)
    G = np.where(M, np.sign(F - med), 0.0)
    n_t = M.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        scaled = np.where(n_t > 0, G.sum(axis=1) / np.sqrt(n_t), 0.0)
    tbar = M.sum(axis=0).mean() if M.shape[1] else np.nan
    sg = np.sqrt((scaled * scaled).sum() / tbar)
    ev = slice(p.L1, None)
    stat = np.where(n_t[ev] > 0, _ratio(scaled[ev], sg), np.nan)
    return stat, _p_norm(stat), n_t[ev]


def _rank_parts(p: _Panel) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return p.full_ranks


def _daily_rank(p: _Panel) -> _Result:
    """Corrado (1989) rank test.

    ``K_it`` is the rank of ``AR_it`` within security ``i``'s estimation and event rows (average
    ranks for ties); ``stat_t = D_t / S(K)`` with ``D_t = mean_i (K_it - Kbar_i)``,
    ``Kbar_i = (M_i + 1)/2`` the mean rank of the ``M_i`` non-missing rows, and
    ``S(K) = sqrt(sum_tau D_tau**2 / Tbar)`` over all estimation and event rows, ``Tbar`` the mean
    ``M_i``. Reference distribution: N(0, 1). As estudy2's ``rank_test`` (estudy2 takes row sums
    as ``mean * N``, which differs only with missing data; use ``modified_rank`` then).

    Reference: Corrado C.J. (1989), A nonparametric test for abnormal security-price performance
    in event studies, Journal of Financial Economics 23, 385-395.
    """
    K, M, Mi = _rank_parts(p)
    dev = np.where(M, K - 0.5 * (Mi + 1.0), 0.0)
    n_t = M.sum(axis=1)
    D = np.where(n_t > 0, _ratio(dev.sum(axis=1), n_t), 0.0)
    sk = np.sqrt((D * D).sum() / Mi.mean()) if Mi.size else np.nan
    ev = slice(p.L1, None)
    stat = np.where(n_t[ev] > 0, _ratio(D[ev], sk), np.nan)
    return stat, _p_norm(stat), n_t[ev]


def _daily_modified_rank(p: _Panel) -> _Result:
    """Modified rank test for missing data (estudy2's ``modified_rank_test``).

    Standardized ranks ``U_it = K_it / (M_i + 1) - 1/2`` (Campbell and Wasley 1993; Kolari and
    Pynnönen 2010), ``stat_t = (sum_i U_it / sqrt(n_t)) / S(U)`` with
    ``S(U) = sqrt(sum_tau (sum_i U_i,tau / sqrt(n_tau))**2 / Tbar)`` over estimation and event
    rows. Equals the Corrado rank test with complete data. Reference distribution: N(0, 1).

    References: Campbell C.J., Wasley C.E. (1993), Measuring security price performance using
    daily NASDAQ returns, Journal of Financial Economics 33, 73-92; Corrado C.J., Zivney T.L.
    (1992), Journal of Financial and Quantitative Analysis 27(3), 465-478.
    """
    K, M, Mi = _rank_parts(p)
    U = np.where(M, K / (Mi + 1.0) - 0.5, 0.0)
    n_t = M.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        Du = np.where(n_t > 0, U.sum(axis=1) / np.sqrt(n_t), 0.0)
    su = np.sqrt((Du * Du).sum() / Mi.mean()) if Mi.size else np.nan
    ev = slice(p.L1, None)
    stat = np.where(n_t[ev] > 0, _ratio(Du[ev], su), np.nan)
    return stat, _p_norm(stat), n_t[ev]


def _wilcoxon_rows(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """W+ (sum of ranks of |x| over positive x, zeros dropped) and p-value, per row of x."""
    m = np.isfinite(x)
    nz = m & (x != 0)
    absx = np.where(nz, np.abs(x), np.nan)
    R = _ranks(absx, axis=1)
    W = np.where(nz & (x > 0), R, 0.0).sum(axis=1)
    n = nz.sum(axis=1)
    pv = np.full(x.shape[0], np.nan)
    for t in range(x.shape[0]):  # one scipy call per day/window, never per security
        if n[t] > 0:
            pv[t] = stats.wilcoxon(
                x[t][nz[t]], zero_method="wilcox", alternative="two-sided", method="auto"
            ).pvalue
    W = np.where(n > 0, W, np.nan)
    return W, pv, n


def _daily_wilcoxon(p: _Panel) -> _Result:
    """Wilcoxon (1945) signed-rank test on day ``t``'s cross-section of abnormal returns.

    The statistic is estudy2's ``W``: the sum of the ranks of ``|AR_it|`` over the positive
    abnormal returns, zeros dropped (average ranks for ties); not a z-score. The p-value is
    two-sided from ``scipy.stats.wilcoxon(x, zero_method="wilcox", method="auto")`` on the
    non-zero values: the exact null distribution of ``W`` for ``n <= 50`` without ties; with
    ties an exhaustive permutation distribution for ``n <= 13`` and the tie-corrected normal
    approximation above; the normal approximation for ``n > 50``. ``n`` counts the non-zero
    abnormal returns.

    Reference: Wilcoxon F. (1945), Individual comparisons by ranking methods, Biometrics Bulletin
    1(6), 80-83.
    """
    return _wilcoxon_rows(p.A)


_DAILY: dict[str, Callable[[_Panel], _Result]] = {
    "brown_warner_1980": _daily_brown_warner_1980,
    "brown_warner_1985": _daily_brown_warner_1985,
    "t_test": _daily_t_test,
    "patell": _daily_patell,
    "boehmer": _daily_boehmer,
    "lamb": _daily_lamb,
    "sign": _daily_sign,
    "generalized_sign": _daily_generalized_sign,
    "corrado_sign": _daily_corrado_sign,
    "rank": _daily_rank,
    "modified_rank": _daily_modified_rank,
    "wilcoxon": _daily_wilcoxon,
    "kolari_pynnonen": _daily_kolari_pynnonen,
}


def _check_names(tests: Sequence[str] | None, allowed: tuple[str, ...], what: str) -> list[str]:
    if tests is None:
        return list(allowed)
    if isinstance(tests, str):
        tests = [tests]
    names = list(tests)
    bad = [t for t in names if t not in allowed]
    if bad:
        raise InferenceError(
            f"unknown {what} test(s) {bad}; choose among {list(allowed)} (or pass tests=None "
            "for all)"
        )
    return list(dict.fromkeys(names))


def daily_tests(data: EventData, tests: Sequence[str] | None = None) -> pd.DataFrame:
    """Test the average abnormal return of every event day.

    Args:
        data: abnormal returns and what the tests need (:class:`EventData`).
        tests: names from :data:`DAILY_TESTS` (default: all, in that order).

    Returns:
        A tidy frame, one row per event day and test, ordered by day then test, with columns
        ``day`` (event-time offset), ``date`` (only when ``data.dates`` is given), ``test``,
        ``statistic`` (as estudy2 defines it, e.g. Wilcoxon's ``W``), ``p_value`` (two-sided) and
        ``n`` (securities used). Each test's docstring (``_daily_<name>``) gives its formula,
        reference distribution and paper.
    """
    names = _check_names(tests, DAILY_TESTS, "daily")
    p = _Panel(data)
    frames = []
    for order, name in enumerate(names):
        stat, pv, n = _DAILY[name](p)
        frames.append(
            pd.DataFrame(
                {
                    "day": p.days.astype(int),
                    "test": name,
                    "statistic": np.asarray(stat, dtype=float),
                    "p_value": np.asarray(pv, dtype=float),
                    "n": np.asarray(n, dtype=int),
                    "_row": np.arange(p.L2),
                    "_order": order,
                }
            )
        )
    out = (
        pd.concat(frames, ignore_index=True)
        if frames
        else pd.DataFrame(
            {
                "day": [],
                "test": [],
                "statistic": [],
                "p_value": [],
                "n": [],
                "_row": [],
                "_order": [],
            }
        )
    )
    out = out.sort_values(["_row", "_order"], kind="stable").reset_index(drop=True)
    if p.dates is not None:
        dates = np.asarray(p.dates)
        out.insert(1, "date", dates[out["_row"].to_numpy(dtype=int)])
    return out.drop(columns=["_row", "_order"])


# --------------------------------------------------------------------------------------------
# CAR tests: each returns (statistic, p_value, n) scalars for one window
# --------------------------------------------------------------------------------------------


class _Window:
    def __init__(self, p: _Panel, start: int, end: int):
        self.p = p
        self.start, self.end = start, end
        self.rows = (p.days >= start) & (p.days <= end)
        self.Aw = p.A[self.rows]
        self.mw = p.mA[self.rows]
        self.L = self.mw.sum(axis=0)
        has = self.L > 0
        car = np.where(self.mw, self.Aw, 0.0).sum(axis=0)
        self.car = np.where(has, car, np.nan)
        self.has = has
        self.n_days = int((self.mw.sum(axis=1) > 0).sum())

    @cached_property
    def caar(self) -> float:
        c = self.car[self.has]
        return float(c.mean()) if c.size else float("nan")

    @cached_property
    def scar(self) -> np.ndarray:
        """Standardized CARs ``CAR_i / (s_i sqrt(L_i + xs_i'(X'X)^-1 xs_i))``."""
        p = self.p
        fac = p.car_var_factor(self.rows, self.mw)
        with np.errstate(invalid="ignore", divide="ignore"):
            z = self.car / (p.s * np.sqrt(fac))
        ok = self.has & p.std_ok & np.isfinite(z)
        return np.where(ok, z, np.nan)


def _car_brown_warner_1985(w: _Window, **_: object) -> tuple[float, float, int]:
    """Brown and Warner (1985) CAAR test: ``sum_t AAR_t / (S(AAR) sqrt(L))``.

    The sum runs over the ``L`` window days with an AAR; ``S(AAR)`` is the estimation-window
    sd of the AAR series (see the daily test). This is estudy2's ``car_brown_warner_1985`` (the sum
    of the daily statistics over ``sqrt(L)``; no autocorrelation adjustment). Reference
    distribution: t with ``T - 1`` dof as the daily test (estudy2 stars it against N(0, 1), which
    the t approaches for long estimation windows). estudy2 also drops days with 90% or fewer of
    the securities present; tradeshock keeps every day and masks the missing cells.

    Reference: Brown S.J., Warner J.B. (1985), Journal of Financial Economics 14, 3-31.
    """
    p = w.p
    sd, dof = p.bw85
    n_t, aar = p.aar
    sel = w.rows & (n_t > 0)
    L = int(sel.sum())
    stat = float(_ratio(aar[sel].sum(), sd * np.sqrt(L))) if L else float("nan")
    return stat, float(_p_t(stat, dof)), int(w.has.sum())


def _car_lamb(w: _Window, **_: object) -> tuple[float, float, int]:
    """Lamb (1995) CAAR test: the sum of the daily Lamb statistics over ``sqrt(L)``.

    As estudy2's ``car_lamb`` (``L`` the window days with a statistic). Reference distribution:
    N(0, 1).

    Reference: Lamb R.P. (1995), Journal of Risk and Insurance 62(1), 111-123.
    """
    stat_d, _, _ = _daily_lamb(w.p)
    s = stat_d[w.rows]
    s = s[np.isfinite(s)]
    stat = float(s.sum() / np.sqrt(s.size)) if s.size else float("nan")
    return stat, float(_p_norm(stat)), int(w.has.sum())


def _car_t_test(w: _Window, **_: object) -> tuple[float, float, int]:
    """Cross-sectional t test of the CARs: ``mean(CAR) / (sd(CAR) / sqrt(n))``.

    ``CAR_i`` sums security ``i``'s non-missing abnormal returns in the window. Reference
    distribution: t with ``n - 1`` dof.

    Reference: Boehmer E., Musumeci J., Poulsen A.B. (1991), Journal of Financial Economics 30(2),
    253-272.
    """
    c = w.car[w.has]
    n = c.size
    if n < 2:
        return float("nan"), float("nan"), n
    stat = float(_ratio(c.mean() * np.sqrt(n), c.std(ddof=1)))
    return stat, float(_p_t(stat, n - 1)), n


def _car_patell(w: _Window, **_: object) -> tuple[float, float, int]:
    """Patell (1976) test of the CAAR with the forecast-error correction.

    ``SCAR_i = CAR_i / (s_i sqrt(L_i + xs_i'(X_i'X_i)^-1 xs_i))`` and
    ``stat = sum_i SCAR_i / sqrt(sum_i (T_i - k_i)/(T_i - k_i - 2))``. ``s_i`` with denominator
    ``T_i - 1`` as in the daily test. Reference distribution: N(0, 1). Not in estudy2.

    Reference: Patell J.M. (1976), Journal of Accounting Research 14(2), 246-276.
    """
    z = w.scar
    use = np.isfinite(z)
    n = int(use.sum())
    if n == 0:
        return float("nan"), float("nan"), 0
    stat = float(z[use].sum() / np.sqrt(w.p.patell_var[use].sum()))
    return stat, float(_p_norm(stat)), n


def _car_boehmer(w: _Window, **_: object) -> tuple[float, float, int]:
    """Boehmer, Musumeci and Poulsen (1991) test of the CAAR on standardized CARs.

    ``mean(SCAR) / (sd(SCAR) / sqrt(n))`` with ``SCAR_i`` as in the Patell CAR test. Reference
    distribution: t with ``n - 1`` dof. Not in estudy2.

    Reference: Boehmer E., Musumeci J., Poulsen A.B. (1991), Journal of Financial Economics 30(2),
    253-272.
    """
    z = w.scar
    z = z[np.isfinite(z)]
    n = z.size
    if n < 2:
        return float("nan"), float("nan"), n
    stat = float(_ratio(z.mean() * np.sqrt(n), z.std(ddof=1)))
    return stat, float(_p_t(stat, n - 1)), n


def _car_kolari_pynnonen(w: _Window, **_: object) -> tuple[float, float, int]:
    """Kolari and Pynnönen (2010) cross-correlation adjustment of the BMP CAAR test.

    ``stat = BMP * sqrt((1 - rbar) / (1 + (n - 1) rbar))``, ``rbar`` the average off-diagonal
    correlation of the estimation-window residuals (:func:`average_cross_correlation`).
    Reference distribution: t with ``n - 1`` dof. Not in estudy2.

    Reference: Kolari J.W., Pynnönen S. (2010), Review of Financial Studies 23(11), 3996-4025.
    """
    bmp, _, n = _car_boehmer(w)
    stat = float(bmp * _kp_factor(w.p.rbar, np.asarray(float(n))))
    return stat, float(_p_t(stat, n - 1)), n


def _car_rank(w: _Window, **_: object) -> tuple[float, float, int]:
    """Corrado (1989) rank test for a CAR window (Cowan 1992), as estudy2's ``car_rank_test``.

    Ranks ``K_it`` are taken within each security over its estimation rows and the window's rows
    (not the whole event window). ``Kbar`` is the mean over securities of their mean rank
    ``(M_i + 1)/2``, ``Kbar_t`` the cross-sectional mean rank of row ``t`` and ``Kbar_w`` the mean
    rank over all cells of the window; then
    ``stat = sqrt(L) (Kbar_w - Kbar) / sqrt(sum_t (Kbar_t - Kbar)**2 / mean_i M_i)``, ``t`` over
    estimation and window rows, ``L`` the window days with data. Ignores serial dependence of the
    ranks. Reference distribution: N(0, 1). Like the CAR Brown-Warner test, tradeshock keeps days
    that estudy2 would drop for having 90% or fewer securities present.

    References: Corrado C.J. (1989), Journal of Financial Economics 23, 385-395; Cowan A.R.
    (1992), Review of Quantitative Finance and Accounting 2, 343-358.
    """
    p = w.p
    F = np.vstack([p.E, w.Aw])
    M = np.isfinite(F)
    keep = M.any(axis=0)
    F, M = F[:, keep], M[:, keep]
    if F.shape[1] == 0:
        return float("nan"), float("nan"), 0
    K = _ranks(F, axis=0)
    Mi = M.sum(axis=0)
    kbar = float((0.5 * (Mi + 1.0)).mean())
    n_t = M.sum(axis=1)
    row_mean = _ratio(np.where(M, K, 0.0).sum(axis=1), n_t)
    dev2 = np.where(n_t > 0, (row_mean - kbar) ** 2, 0.0).sum()
    sk = np.sqrt(dev2 / Mi.mean())
    Mw = M[p.L1 :]
    Kw = np.where(Mw, K[p.L1 :], 0.0)
    L = int((Mw.sum(axis=1) > 0).sum())
    if L == 0:
        return float("nan"), float("nan"), 0
    kbar_w = Kw.sum() / Mw.sum()
    stat = float(_ratio(np.sqrt(L) * (kbar_w - kbar), sk))
    return stat, float(_p_norm(stat)), int(w.has.sum())


def _car_grank(w: _Window, **_: object) -> tuple[float, float, int]:
    """Kolari and Pynnönen (2011) generalized rank test (GRANK) of the CAR.

    1. Standardized residuals ``SAR_i,tau = AR_i,tau / s_i`` in the estimation window and the
       standardized CAR ``SCAR_i`` (forecast-error corrected, as in the Patell CAR test).
    2. Re-standardize for event-induced volatility: ``SCAR*_i = SCAR_i / S(SCAR)``, ``S`` the
       cross-sectional sample sd.
    3. Generalized standardized abnormal returns: ``GSAR_i,tau = SAR_i,tau`` on estimation rows and
       one more row ``GSAR_i,0 = SCAR*_i`` for the whole window.
    4. Demeaned standardized ranks ``U_i,tau = rank(GSAR_i,tau) / (M_i + 1) - 1/2`` within each
       security (``M_i`` its non-missing GSARs).
    5. ``Z = Ubar_0 / S(U)`` with ``Ubar_tau`` the mean over the ``n_tau`` securities present and
       ``S(U) = sqrt(sum_tau (n_tau / n) Ubar_tau**2 / T)`` over all ``T`` rows (estimation rows and
       the cumulated row); ``t_grank = Z sqrt((T - 2) / (T - 1 - Z**2))``.

    Reference distribution: t with ``T - 2`` dof. Robust to event-induced volatility and serial
    correlation of the abnormal returns. Not in estudy2.

    Reference: Kolari J.W., Pynnönen S. (2011), Nonparametric rank tests for event studies,
    Journal of Empirical Finance 18(5), 953-971.
    """
    p = w.p
    z = w.scar
    use = np.isfinite(z)
    n = int(use.sum())
    if n < 2:
        return float("nan"), float("nan"), n
    zs = z[use]
    zstar = zs / zs.std(ddof=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        sar_est = p.E[:, use] / p.s[use]
    G = np.vstack([sar_est, zstar[None, :]])
    M = np.isfinite(G)
    K = _ranks(G, axis=0)
    Mi = M.sum(axis=0)
    U = np.where(M, K / (Mi + 1.0) - 0.5, 0.0)
    n_t = M.sum(axis=1)
    ubar = np.where(n_t > 0, _ratio(U.sum(axis=1), n_t), 0.0)
    T = int((n_t > 0).sum())
    su = np.sqrt(((n_t / n) * ubar * ubar).sum() / T)
    Z = float(_ratio(ubar[-1], su))
    denom = T - 1.0 - Z * Z
    stat = float(Z * np.sqrt((T - 2.0) / denom)) if denom > 0 else float("nan")
    return stat, float(_p_t(stat, T - 2)), n


def _car_generalized_sign(w: _Window, **_: object) -> tuple[float, float, int]:
    """Cowan (1992) generalized sign test of the CARs: ``(w - n p) / sqrt(n p (1 - p))``.

    ``w`` counts positive CARs, ``p`` as in the daily test. Reference distribution: N(0, 1).

    Reference: Cowan A.R. (1992), Review of Quantitative Finance and Accounting 2, 343-358.
    """
    c = w.car[w.has]
    n = c.size
    ph = w.p.p_hat
    stat = float(_ratio((c > 0).sum() - n * ph, np.sqrt(n * ph * (1 - ph))))
    return stat, float(_p_norm(stat)), n


def _car_sign(w: _Window, **_: object) -> tuple[float, float, int]:
    """Sign test of the CARs: ``(w - n/2) / sqrt(n/4)``, ``w`` the number of positive CARs.

    Reference distribution: N(0, 1).

    Reference: Boehmer E., Musumeci J., Poulsen A.B. (1991), Journal of Financial Economics 30(2),
    253-272.
    """
    c = w.car[w.has]
    n = c.size
    stat = float(_ratio((c > 0).sum() - 0.5 * n, np.sqrt(0.25 * n)))
    return stat, float(_p_norm(stat)), n


def _car_wilcoxon(w: _Window, **_: object) -> tuple[float, float, int]:
    """Wilcoxon (1945) signed-rank test of the CARs; ``W`` and p-value as in the daily test.

    Reference: Wilcoxon F. (1945), Biometrics Bulletin 1(6), 80-83.
    """
    W, pv, n = _wilcoxon_rows(w.car[w.has][None, :])
    return float(W[0]), float(pv[0]), int(n[0])


def _car_bootstrap(
    w: _Window, *, rng: np.random.Generator, n_boot: int, **_: object
) -> tuple[float, float, int, float, float]:
    """Bootstrap confidence interval for the CAAR (resampling securities).

    The ``n`` CARs are resampled with replacement ``n_boot`` times (``numpy.random.default_rng``
    with the given seed, windows drawn in the order given). ``ci_low``/``ci_high`` are the 2.5%
    and 97.5% percentiles of the bootstrap means (95% percentile interval); ``statistic`` is
    ``CAAR / sd(bootstrap means)``; ``p_value`` is the share of recentred bootstrap means at least
    as far from the CAAR as the CAAR is from zero, ``(1 + #{|m*_b - CAAR| >= |CAAR|}) / (B + 1)``.
    Resampling whole securities keeps each security's days together but assumes independence
    across securities.

    Reference: Efron B., Tibshirani R.J. (1993), An Introduction to the Bootstrap, Chapman & Hall.
    """
    c = w.car[w.has]
    n = c.size
    if n < 2 or n_boot < 1:
        return float("nan"), float("nan"), n, float("nan"), float("nan")
    idx = rng.integers(0, n, size=(n_boot, n))
    means = c[idx].mean(axis=1)
    m = c.mean()
    sd = means.std(ddof=1) if n_boot > 1 else float("nan")
    stat = float(_ratio(m, sd))
    pv = float((1 + np.count_nonzero(np.abs(means - m) >= abs(m))) / (n_boot + 1))
    lo, hi = np.percentile(means, [2.5, 97.5])
    return stat, pv, n, float(lo), float(hi)


_CAR: dict[str, Callable[..., tuple]] = {
    "brown_warner_1985": _car_brown_warner_1985,
    "t_test": _car_t_test,
    "patell": _car_patell,
    "boehmer": _car_boehmer,
    "kolari_pynnonen": _car_kolari_pynnonen,
    "lamb": _car_lamb,
    "rank": _car_rank,
    "grank": _car_grank,
    "generalized_sign": _car_generalized_sign,
    "wilcoxon": _car_wilcoxon,
    "sign": _car_sign,
    "bootstrap": _car_bootstrap,
}


def _window_bounds(p: _Panel, win: object) -> tuple[int, int]:
    """``(start, end)`` of a window of event-time offsets inside ``p.days``; InferenceError if not."""
    try:
        start, end = (int(win[0]), int(win[1]))  # type: ignore[index]
    except (TypeError, ValueError, IndexError):
        raise InferenceError(
            f"window {win!r} is not a (start, end) pair of event-time offsets"
        ) from None
    if start > end:
        raise InferenceError(f"window ({start}, {end}) starts after it ends; give (start, end)")
    lo_day, hi_day = int(p.days.min()), int(p.days.max())
    if start < lo_day or end > hi_day:
        raise InferenceError(
            f"window ({start}, {end}) reaches outside the event rows, which cover days "
            f"{lo_day}..{hi_day}; widen the event window of the study or shorten the window"
        )
    return start, end


def car_tests(
    data: EventData,
    windows: Sequence[tuple[int, int]],
    tests: Sequence[str] | None = None,
    *,
    n_boot: int = 2000,
    seed: int | None = 0,
    rbar_all: float | None = None,
) -> pd.DataFrame:
    """Test the cumulative average abnormal return (CAAR) of one or more windows.

    Args:
        data: abnormal returns and what the tests need (:class:`EventData`).
        windows: ``(start, end)`` event-time offsets, inclusive, within ``data.days``;
            e.g. ``[(-1, 1), (0, 5)]``.
        tests: names from :data:`CAR_TESTS` (default: all, in that order).
        n_boot: bootstrap replications for the ``bootstrap`` row.
        seed: seed of the bootstrap's random generator (fixed by default, so results repeat).
        rbar_all: ``average_cross_correlation(data.ar_est)`` if the caller has it already
            (:func:`tradeshock.engine.groups.group_car_tests` reports it); the
            Kolari-Pynnönen test then reuses it when every security has a usable standard
            deviation (the same number), instead of computing it again.

    Returns:
        A tidy frame, one row per window and test (windows in the order given), with columns
        ``window_start``, ``window_end``, ``test``, ``statistic``, ``p_value`` (two-sided), ``n``
        (securities used), ``caar`` (mean over the securities with data in the window of their
        CAR, the sum of their non-missing abnormal returns in the window; with complete data the
        sum of the window's AARs) and ``ci_low``/``ci_high`` (95% bootstrap interval of the CAAR,
        NaN on other rows). Each test's docstring (``_car_<name>``) gives its formula, reference
        distribution and paper.
    """
    names = _check_names(tests, CAR_TESTS, "CAR")
    p = _Panel(data)
    if rbar_all is not None and bool(p.std_ok.all()):
        p.__dict__["rbar"] = float(rbar_all)  # the cached_property's value
    wins = list(windows)
    if not wins:
        raise InferenceError("car_tests needs at least one (start, end) window, e.g. [(0, 1)]")
    if p.L2 == 0:
        raise InferenceError("EventData.ar_event has no rows; there is no window to test")
    rng = np.random.default_rng(seed)
    records = []
    for win in wins:
        start, end = _window_bounds(p, win)
        w = _Window(p, start, end)
        for name in names:
            res = _CAR[name](w, rng=rng, n_boot=int(n_boot))
            stat, pv, n = res[:3]
            ci = res[3:5] if len(res) == 5 else (np.nan, np.nan)
            records.append(
                {
                    "window_start": start,
                    "window_end": end,
                    "test": name,
                    "statistic": float(stat),
                    "p_value": float(pv),
                    "n": int(n),
                    "caar": w.caar,
                    "ci_low": float(ci[0]),
                    "ci_high": float(ci[1]),
                }
            )
    return pd.DataFrame.from_records(
        records,
        columns=[
            "window_start",
            "window_end",
            "test",
            "statistic",
            "p_value",
            "n",
            "caar",
            "ci_low",
            "ci_high",
        ],
    )


# --------------------------------------------------------------------------------------------
# per-security CAR tests
# --------------------------------------------------------------------------------------------

#: Columns of :func:`car_by_security`, in order.
CAR_BY_SECURITY_COLUMNS: tuple[str, ...] = (
    "security",
    "window_start",
    "window_end",
    "car",
    "se",
    "statistic",
    "df",
    "p_value",
    "ci_low",
    "ci_high",
    "n_days",
)


def car_by_security(
    data: EventData, windows: Sequence[tuple[int, int]], *, level: float = 0.95
) -> pd.DataFrame:
    """Test each security's cumulative abnormal return: CAR, standard error, t, p, interval.

    For security ``i`` and a window of ``L_i`` days with an abnormal return (both ends
    inclusive, event-time offsets):

    * ``car = CAR_i``, the sum of its abnormal returns in the window (fraction);
    * ``se = s_i sqrt(L_i + xs_i'(X_i'X_i)^-1 xs_i)``, the standard error of the sum of ``L_i``
      out-of-sample prediction errors of the normal-return model: ``xs_i`` is the sum over the
      window's days of the regressors ``x_it`` and ``X_i`` the estimation-window regressors, so the
      second term is the estimation error of the model's coefficients (the forecast-error
      correction of Patell 1976 summed over the window; Campbell, Lo and MacKinlay 1997, eq.
      4.4.19 with ``V_i = s_i**2 (I + X*_i (X_i'X_i)^-1 X*_i')``). Constant mean: ``L_i + L_i**2 /
      T_i``; market-adjusted (nothing estimated): ``L_i``. ``s_i**2 = SSR_i / (T_i - k_i)``, the
      unbiased OLS residual variance of the estimation window (``estimates.resid_sd`` of the
      study; not the ``T_i - 1`` denominator the cross-sectional tests share with estudy2);
    * ``statistic = car / se`` (the standardized CAR, ``SCAR``), read against **Student t with
      ``df = T_i - k_i`` degrees of freedom**: under the null of no abnormal return and normal,
      serially independent disturbances of constant variance, ``SCAR_i`` is exactly
      ``t(T_i - k_i)`` (Campbell, Lo and MacKinlay 1997, section 4.4.2, below eq. 4.4.22:
      ``t(L_1 - 2)`` for the market model), because the prediction errors are independent of
      ``s_i``. With 250 estimation days the 97.5 % quantile of ``t(248)`` is 0.5 % above N(0, 1)'s;
    * ``p_value``, two-sided; ``ci_low``/``ci_high = car -/+ q se`` with ``q`` the
      ``(1 + level) / 2`` quantile of ``t(df)``;
    * ``n_days = L_i``.

    Only securities with at least one abnormal return in the window get a row (as
    ``EventStudyResult.car``); ``security`` is the position of the security (column of
    ``data.ar_event``). A security whose ``s_i`` or forecast-error term is undefined (too few
    estimation rows, zero variance, a missing regressor on a day with a return) gets NaN in
    ``se`` and everything derived from it.

    References: Patell J.M. (1976), Journal of Accounting Research 14(2), 246-276; Campbell J.Y.,
    Lo A.W., MacKinlay A.C. (1997), The Econometrics of Financial Markets, Princeton University
    Press, ch. 4; MacKinlay A.C. (1997), Event studies in economics and finance, Journal of
    Economic Literature 35(1), 13-39.
    """
    if not (isinstance(level, (int, float)) and 0 < level < 1):
        raise InferenceError(f"level must be a coverage in (0, 1), e.g. 0.95; got {level!r}")
    p = _Panel(data)
    wins = list(windows)
    if not wins:
        raise InferenceError("car_by_security needs at least one (start, end) window, e.g. [(0, 3)]")
    if p.L2 == 0:
        raise InferenceError("EventData.ar_event has no rows; there is no window to test")
    df = (p.T - p.k).astype(float)
    df_ok = df > 0
    q = np.full(p.N, np.nan)
    q[df_ok] = stats.t.ppf(0.5 + level / 2, df[df_ok])
    frames = []
    for win in wins:
        start, end = _window_bounds(p, win)
        w = _Window(p, start, end)
        fac = p.car_var_factor(w.rows, w.mw)
        with np.errstate(invalid="ignore", divide="ignore"):
            se = p.s_ols * np.sqrt(fac)
        se = np.where(np.isfinite(se) & (se > 0), se, np.nan)
        stat = _ratio(w.car, se)
        keep = np.flatnonzero(w.has)
        frames.append(
            pd.DataFrame(
                {
                    "security": keep,
                    "window_start": start,
                    "window_end": end,
                    "car": w.car[keep],
                    "se": se[keep],
                    "statistic": stat[keep],
                    "df": np.where(df_ok, df, np.nan)[keep],
                    "p_value": _p_t(stat, df)[keep],
                    "ci_low": (w.car - q * se)[keep],
                    "ci_high": (w.car + q * se)[keep],
                    "n_days": w.L[keep].astype(np.int64),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)[list(CAR_BY_SECURITY_COLUMNS)]


# --------------------------------------------------------------------------------------------
# multiple testing
# --------------------------------------------------------------------------------------------

_METHODS = {
    "holm": "holm",
    "fdr_bh": "fdr_bh",
    "bh": "fdr_bh",
    "benjamini-hochberg": "fdr_bh",
    "bonferroni": "bonferroni",
    "fdr_by": "fdr_by",
    "sidak": "sidak",
    "holm-sidak": "holm-sidak",
    "hommel": "hommel",
}


def _multipletests(p: np.ndarray, method: str) -> np.ndarray:
    """statsmodels' adjusted p-values, imported on use (statsmodels is slow to import)."""
    from statsmodels.stats.multitest import multipletests

    return multipletests(p, method=method)[1]


def adjust_pvalues(
    table: pd.DataFrame, method: str = "holm", by: Sequence[str] | None = None
) -> pd.DataFrame:
    """Add ``p_adjusted``: p-values adjusted for multiple testing across days and windows.

    Uses :func:`statsmodels.stats.multitest.multipletests` (``fdr_bh`` = Benjamini-Hochberg 1995,
    false discovery rate, ``bh`` an alias; statsmodels' other methods pass through) and, for
    ``holm`` (Holm 1979 step-down, family-wise error), the same formula computed in numpy
    (:func:`_holm`; statsmodels' Holm branch runs a garbage collection on every call). The test
    suite checks both against statsmodels.

    Args:
        table: a frame with a ``p_value`` column, e.g. from :func:`daily_tests`,
            :func:`car_tests`, or both concatenated.
        method: the adjustment.
        by: columns whose groups are separate families. ``None`` (default) adjusts each test
            separately across all its days and windows (groups by ``test`` when the column
            exists); ``[]`` treats the whole table as one family.

    Returns:
        A copy of ``table`` with ``p_adjusted`` (NaN where ``p_value`` is NaN).
    """
    if "p_value" not in table.columns:
        raise InferenceError(
            "adjust_pvalues needs a 'p_value' column; pass the frame from daily_tests or car_tests"
        )
    key = str(method).lower()
    if key not in _METHODS:
        raise InferenceError(
            f"unknown p-value adjustment {method!r}; choose among {sorted(_METHODS)}"
        )
    smethod = _METHODS[key]
    if by is None:
        groups = ["test"] if "test" in table.columns else []
    else:
        groups = [by] if isinstance(by, str) else list(by)
    missing = [g for g in groups if g not in table.columns]
    if missing:
        raise InferenceError(f"adjust_pvalues: by={missing} are not columns of the table")
    out = table.copy()
    pv = out["p_value"].to_numpy(dtype=float)
    adj = np.full(pv.shape, np.nan)
    if groups:
        codes = out.groupby(groups, sort=False, dropna=False).ngroup().to_numpy()
    else:
        codes = np.zeros(len(out), dtype=int)
    for g in np.unique(codes):
        sel = (codes == g) & np.isfinite(pv)
        if sel.any():
            adj[sel] = (
                _holm(pv[sel]) if smethod == "holm" else _multipletests(pv[sel], smethod)
            )
    out["p_adjusted"] = adj
    return out


def _holm(p: np.ndarray) -> np.ndarray:
    """Holm (1979) step-down adjusted p-values, exactly ``multipletests(p, method="holm")[1]``.

    Computed here because statsmodels' Holm branch calls ``gc.collect()`` on every call, which costs
    about 0.1 s per family in a large process (one family per test and the battery has 13).
    """
    order = np.argsort(p, kind="stable")
    m = p.size
    stepped = np.maximum.accumulate(p[order] * np.arange(m, 0, -1))
    out = np.empty(m)
    out[order] = np.minimum(stepped, 1.0)
    return out
