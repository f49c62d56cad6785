"""Normal-return models for event studies, estimated for N securities at once.

A normal-return model gives the return a security would have had without the event; the abnormal
return is the difference, ``AR_it = R_it - E[R_it | X_it]`` (MacKinlay 1997, "Event studies in
economics and finance", J. Econ. Lit. 35(1), section 4). Four models are offered:

=================== ==================================== ============ ==========================
name                normal return E[R_it]                parameters   regressors ``x_it``
=================== ==================================== ============ ==========================
``mean``            alpha_i (constant mean)              1            ``[1]``
``market_adjusted`` R_mt (no estimation)                 0            none
``market``          alpha_i + beta_i R_mt (OLS)          2            ``[1, R_mt]``
``factor``          alpha_i + sum_k b_ik F_kt (OLS)      1 + k        ``[1, F_1t, ..., F_kt]``
=================== ==================================== ============ ==========================

All models are fitted by ordinary least squares on the estimation window with *array algebra over
the whole cross-section*: the inputs are ``y`` of shape ``(L, N)`` (L rows, N securities) and ``x``
of shape ``(L, N, k)``, NaN marks a missing observation, and every security uses only its own
complete rows (``mask``), so each has its own number of observations ``n_i``. There is no Python
loop over securities; :func:`fit_ols_reference` in the tests re-estimates security by security with
statsmodels to check this fast path (the arch package's habit: fast code plus a plain reference).

Numerics: slopes are solved from cross-products of the regressors *centred on each security's own
means*, and the intercept recovered as ``ybar - xbar'b``. This equals OLS exactly and keeps the
normal equations well conditioned for daily returns (their raw ``X'X`` mixes ``n`` with sums of
squares of order 1e-2).

Residual variance: ``s_i^2 = SSR_i / (n_i - p_i)`` with ``p_i`` the number of estimated parameters
(the usual unbiased OLS estimator; estudy2 and statsmodels use the same denominator). For
``market_adjusted`` nothing is estimated (``p = 0``) and ``s_i^2 = sum(AR_it^2) / n_i`` over the
estimation window. The engine reports ``alpha = 0`` and ``beta = 1`` for ``market_adjusted``: they
are the fixed coefficients of its formula, not estimates.

Optional GARCH(1,1) (Bollerslev 1986) through the ``arch`` package: :func:`garch_forecast_sd` fits a
zero-mean GARCH(1,1) with normal errors to each security's estimation-window residuals and returns
the *analytic multi-step forecast* of the conditional standard deviation made at the end of the
estimation window for each event-window row (horizon = number of the security's own sessions from
the last estimation row). Standardized ARs are ``AR_it / sd_it``. This is a per-security loop over
``arch`` fits, hence optional and outside the hot path.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from tradeshock.errors import StudyError

__all__ = [
    "MODELS",
    "FactorModel",
    "MarketAdjustedModel",
    "MarketModel",
    "MeanModel",
    "ModelFit",
    "NormalReturnModel",
    "fit_ols",
    "garch_forecast_sd",
    "get_model",
]

#: Names accepted by :func:`get_model` (and ``tradeshock.study.event_study(model=...)``).
MODELS: tuple[str, ...] = ("mean", "market_adjusted", "market", "factor")

# Relative size of the smallest eigenvalue of the centred cross-product matrix below which the
# regressors of a security are taken as collinear (e.g. a market return that is constant over the
# estimation window): the security is then excluded, never given arbitrary coefficients.
_SINGULAR_TOL = 1e-10


@dataclass(frozen=True)
class ModelFit:
    """Estimates of a normal-return model for N securities (arrays, one entry per security).

    ``params`` has shape ``(N, p)`` with the columns named by ``param_names`` (``alpha`` first);
    ``resid`` holds the estimation-window abnormal returns ``(L1, N)`` with NaN where a security has
    no observation; ``singular`` flags securities whose regressors are collinear in their window.
    """

    model: str
    param_names: tuple[str, ...]
    params: np.ndarray  # (N, p)
    resid: np.ndarray  # (L1, N)
    n_obs: np.ndarray  # (N,) int
    n_params: int
    resid_var: np.ndarray  # (N,)  SSR / (n - p)
    r2: np.ndarray  # (N,)
    singular: np.ndarray  # (N,) bool

    @property
    def resid_sd(self) -> np.ndarray:
        """Residual standard deviation per security, ``sqrt(SSR / (n - p))``."""
        return np.sqrt(self.resid_var)


def fit_ols(y: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """OLS of ``y[:, i]`` on ``x[:, i, :]`` for every security ``i`` at once, NaN-masked.

    ``x`` must hold an intercept column first (a column of ones); other columns are regressors.
    Returns ``(params (N, k), resid (L, N) with NaN where masked, n_obs (N,), singular (N,))``.
    A row enters security i's fit only if ``y`` and every column of ``x`` are finite there.
    """
    y = np.asarray(y, dtype=float)
    x = np.asarray(x, dtype=float)
    if x.ndim != 3 or y.shape != x.shape[:2]:
        raise StudyError(f"fit_ols: y must be (L, N) and x (L, N, k); got {y.shape} and {x.shape}")
    L, N, k = x.shape
    mask = np.isfinite(y) & np.isfinite(x).all(axis=2)
    n = mask.sum(axis=0)
    w = mask.astype(float)
    n_safe = np.maximum(n, 1)
    y0 = np.where(mask, y, 0.0)
    ybar = y0.sum(axis=0) / n_safe
    params = np.full((N, k), np.nan)
    singular = np.zeros(N, dtype=bool)
    if k == 1:  # intercept only: the mean
        params[:, 0] = ybar
        fitted = np.broadcast_to(ybar, (L, N))
    elif k == 2:  # one regressor (the market model): the same algebra on 2-D arrays, faster
        xr = np.where(mask, x[:, :, 1], 0.0)
        xbar = xr.sum(axis=0) / n_safe
        xc = (xr - xbar) * w
        yc = (y0 - ybar) * w
        sxx = np.einsum("tn,tn->n", xc, xc)
        sxy = np.einsum("tn,tn->n", xc, yc)
        raw = np.einsum("tn,tn->n", xr, xr)
        singular = (sxx <= 1e-12 * raw) | (sxx <= 0) | (n <= k) | ~np.isfinite(sxx)
        with np.errstate(invalid="ignore", divide="ignore"):
            slope = np.where(singular, np.nan, sxy / np.where(singular, 1.0, sxx))
        params[:, 0] = ybar - xbar * slope
        params[:, 1] = slope
        fitted = params[:, 0] + x[:, :, 1] * slope
    else:
        xr = np.where(mask[:, :, None], x[:, :, 1:], 0.0)  # (L, N, k-1) regressors w/o intercept
        xbar = xr.sum(axis=0) / n_safe[:, None]
        xc = (xr - xbar[None]) * w[:, :, None]
        yc = (y0 - ybar[None]) * w
        sxx = np.einsum("tnk,tnl->nkl", xc, xc)
        sxy = np.einsum("tnk,tn->nk", xc, yc)
        # Collinearity check on the scale-free (correlation-type) matrix, and a regressor that is
        # constant over the window (centred sum of squares ~ 0 relative to its raw one).
        d = np.sqrt(np.einsum("nkk->nk", sxx))
        raw = np.einsum("tnk,tnk->nk", xr, xr)
        flat = (d**2 <= 1e-12 * raw) | (d <= 0)
        with np.errstate(invalid="ignore", divide="ignore"):
            corr = sxx / (d[:, :, None] * d[:, None, :])
        bad = ~np.isfinite(corr).all(axis=(1, 2)) | flat.any(axis=1)
        corr = np.where(bad[:, None, None], np.eye(k - 1)[None], corr)
        eig_min = np.linalg.eigvalsh(corr)[:, 0]
        singular = bad | (eig_min < _SINGULAR_TOL) | (n <= k)
        sxx_safe = np.where(singular[:, None, None], np.eye(k - 1)[None], sxx)
        slopes = np.linalg.solve(sxx_safe, sxy[:, :, None])[:, :, 0]
        slopes[singular] = np.nan
        alpha = ybar - np.einsum("nk,nk->n", xbar, slopes)
        params[:, 0] = alpha
        params[:, 1:] = slopes
        fitted = np.einsum("tnk,nk->tn", x, params)
    singular = singular | (n == 0)
    resid = np.where(mask, y - fitted, np.nan)
    return params, resid, n, singular


class NormalReturnModel:
    """Base class: a normal-return model maps regressors to the expected return of each security.

    Subclasses set ``name`` and implement :meth:`regressors` (the ``x`` array with an intercept
    column, or ``None`` when nothing is estimated) and, if needed, :meth:`fit` / :meth:`expected`.
    """

    name: str = ""
    needs_market: bool = False

    def __init__(self, factor_names: Sequence[str] = ()) -> None:
        self.factor_names = tuple(factor_names)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"

    @property
    def param_names(self) -> tuple[str, ...]:
        """Names of the estimated parameters, ``alpha`` first."""
        return ("alpha",)

    @property
    def n_params(self) -> int:
        """Number of estimated parameters (degrees of freedom lost in the residual variance)."""
        return len(self.param_names)

    def regressors(
        self, ones: np.ndarray, market: np.ndarray | None, factors: np.ndarray | None
    ) -> np.ndarray | None:
        """``x`` of shape ``(L, N, k)`` (intercept first) from the gathered inputs.

        ``ones`` is ``(L, N)`` with 1 where the security has a return observation and NaN
        elsewhere; ``market`` ``(L, N)``; ``factors`` ``(L, N, kf)``.
        """
        return ones[:, :, None]

    def fit(self, y: np.ndarray, x: np.ndarray | None, market: np.ndarray | None) -> ModelFit:
        """Estimate on the estimation window: ``y`` ``(L1, N)``, ``x`` ``(L1, N, k)``."""
        params, resid, n, singular = fit_ols(y, x)
        p = self.n_params
        mask = np.isfinite(resid)
        r0 = np.where(mask, resid, 0.0)
        ssr = np.einsum("tn,tn->n", r0, r0)
        with np.errstate(invalid="ignore", divide="ignore"):
            resid_var = np.where(n > p, ssr / np.maximum(n - p, 1), np.nan)
            if p > 1:
                y0 = np.where(mask, y, 0.0)
                ybar = y0.sum(axis=0) / np.maximum(n, 1)
                yc = np.where(mask, y - ybar, 0.0)
                r2 = 1.0 - ssr / np.einsum("tn,tn->n", yc, yc)
            else:
                r2 = np.zeros(y.shape[1])
        return ModelFit(self.name, self.param_names, params, resid, n, p, resid_var, r2, singular)

    def expected(
        self, fit: ModelFit, x: np.ndarray | None, market: np.ndarray | None
    ) -> np.ndarray:
        """Normal (expected) returns ``(L2, N)`` for the event window."""
        return np.einsum("tnk,nk->tn", x, fit.params)


class MeanModel(NormalReturnModel):
    """Constant mean: ``E[R_it] = alpha_i``, the estimation-window mean (Brown-Warner 1980)."""

    name = "mean"


class MarketAdjustedModel(NormalReturnModel):
    """Market-adjusted returns: ``AR_it = R_it - R_mt``; nothing estimated (Brown-Warner 1980).

    Estimation-window ARs are ``R_it - R_mt`` too (the tests need their variance);
    ``resid_var = sum(AR^2) / n``.
    """

    name = "market_adjusted"
    needs_market = True

    @property
    def param_names(self) -> tuple[str, ...]:
        return ("alpha", "beta")

    @property
    def n_params(self) -> int:
        return 0

    def regressors(self, ones, market, factors):
        return None

    def fit(self, y, x, market):
        resid = y - market
        n = np.isfinite(resid).sum(axis=0)
        N = y.shape[1]
        params = np.tile([0.0, 1.0], (N, 1))
        with np.errstate(invalid="ignore", divide="ignore"):
            resid_var = np.where(n > 0, np.nansum(resid**2, axis=0) / n, np.nan)
        return ModelFit(
            self.name,
            self.param_names,
            params,
            resid,
            n,
            0,
            resid_var,
            np.full(N, np.nan),
            n == 0,
        )

    def expected(self, fit, x, market):
        return market


class MarketModel(NormalReturnModel):
    """Market model, OLS: ``R_it = alpha_i + beta_i R_mt + e_it`` (Sharpe 1963; MacKinlay 1997)."""

    name = "market"
    needs_market = True

    @property
    def param_names(self) -> tuple[str, ...]:
        return ("alpha", "beta")

    def regressors(self, ones, market, factors):
        return np.stack([ones, market * ones], axis=2)


class FactorModel(NormalReturnModel):
    """Factor model by OLS on user-supplied factor returns, e.g. Fama-French 3/5 plus momentum.

    ``R_it = alpha_i + sum_k b_ik F_kt + e_it``. The factor frame is any set of return series in the
    same units as ``returns`` (fractions); for Fama-French the usual form is excess returns on the
    left, ``Mkt-RF``, ``SMB``, ``HML`` … on the right (Fama and French 1993). Parameters are named
    ``beta_<factor>``.
    """

    name = "factor"

    @property
    def param_names(self) -> tuple[str, ...]:
        return ("alpha",) + tuple(f"beta_{f}" for f in self.factor_names)

    def regressors(self, ones, market, factors):
        if factors is None or factors.shape[2] == 0:
            raise StudyError("model 'factor' needs a factors frame with at least one column")
        return np.concatenate([ones[:, :, None], factors * ones[:, :, None]], axis=2)


_REGISTRY: dict[str, type[NormalReturnModel]] = {
    "mean": MeanModel,
    "market_adjusted": MarketAdjustedModel,
    "market": MarketModel,
    "factor": FactorModel,
}


def get_model(name: str, factor_names: Sequence[str] = ()) -> NormalReturnModel:
    """The model called ``name`` (one of :data:`MODELS`)."""
    try:
        cls = _REGISTRY[name]
    except KeyError:
        raise StudyError(
            f"unknown normal-return model {name!r}; choose one of {', '.join(MODELS)}"
        ) from None
    return cls(factor_names)


def garch_forecast_sd(
    resid: np.ndarray, horizons: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """GARCH(1,1) conditional-sd forecasts for standardizing event-window ARs (Bollerslev 1986).

    ``resid`` ``(L1, N)``: estimation-window residuals (NaN rows dropped per security, i.e. the
    model sees the security's observed sessions in order). ``horizons`` ``(L2, N)``: steps ahead of
    the last estimation observation (>= 1). The model is a zero-mean GARCH(1,1) with normal errors,
    fitted by ``arch`` on residuals scaled by 100 (``arch``'s advice for daily returns; the scale is
    undone in the output). Returns ``(sd (L2, N), params (N, 3) = omega, alpha, beta on the
    fraction scale, converged (N,) bool)``; a failed fit gives NaN for that security.

    Loops over securities (one ``arch`` fit each): optional and outside the engine's hot path.
    """
    from arch import arch_model  # optional dependency, imported on use

    L2, N = horizons.shape
    sd = np.full((L2, N), np.nan)
    params = np.full((N, 3), np.nan)
    ok = np.zeros(N, dtype=bool)
    for i in range(N):
        e = resid[:, i]
        e = e[np.isfinite(e)] * 100.0
        h = horizons[:, i]
        if e.size < 10 or not np.isfinite(h).any():
            continue
        try:
            res = arch_model(e, mean="Zero", vol="GARCH", p=1, q=1, rescale=False).fit(
                disp="off", show_warning=False
            )
        except Exception:  # noqa: BLE001, S112 - a failed fit means "no GARCH sd" (garch_converged)
            continue
        if res.convergence_flag != 0:
            continue
        hmax = int(np.nanmax(h))
        var = res.forecast(horizon=hmax, reindex=False).variance.to_numpy()[-1]
        good = np.isfinite(h) & (h >= 1)
        sd[good, i] = np.sqrt(var[h[good].astype(int) - 1]) / 100.0
        p = res.params
        params[i] = [p["omega"] / 1e4, p["alpha[1]"], p["beta[1]"]]
        ok[i] = True
    return sd, params, ok
