"""The results object of an event study: :class:`EventStudyResult`.

:func:`tradeshock.engine.study.event_study` builds it; its read-only properties are tidy frames
(``abnormal_returns``, ``car``, ``aar``, ``caar``, ``estimates``, ``excluded``, ``tests``,
``car_tests``), :meth:`EventStudyResult.car_by_security` tests each security's CAR, and
``summary()`` prints a text table. Units: simple returns as fractions (0.01 = 1 %); ``summary()``
shows percent. Test statistics come from :mod:`tradeshock.engine.inference` through
:attr:`EventStudyResult.data` (an :class:`~tradeshock.engine.inference.EventData`).
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from tradeshock.core.windows import Window, parse_window
from tradeshock.core.tables import Summary
from tradeshock.engine import inference, present
from tradeshock.engine.models import ModelFit
from tradeshock.errors import StudyError

__all__ = ["EXCLUSION_REASONS", "EventStudyResult"]

#: Reasons a security can be excluded (the ``reason`` column of ``result.excluded``).
EXCLUSION_REASONS: tuple[str, ...] = (
    "no_data_day0",
    "missing_event_data",
    "too_few_estimation_obs",
    "singular_design",
    "zero_variance",
    "non_finite_return",
)


def _is_one_window(windows: Any) -> bool:
    """Whether ``windows`` is one window (``(0, 3)``, ``"0:3"``) rather than a list of them."""
    if isinstance(windows, (str, Window)):
        return True
    return (
        isinstance(windows, (tuple, list))
        and len(windows) == 2
        and not any(isinstance(x, (tuple, list, str, Window)) for x in windows)
    )


class EventStudyResult:
    """Results of :func:`event_study`: tidy frames behind read-only properties, plus ``summary()``.

    Frames are built on first access and returned as copies, so callers cannot alter the result.
    ``security`` in every frame is the event id (the column name, or e.g. ``"SPY@E1"``).
    """

    _frozen = False

    def __init__(
        self,
        *,
        ids: list[str],
        columns: list[str],
        day0: np.ndarray,
        model: str,
        fit: ModelFit,
        days: np.ndarray,
        ev_dates: np.ndarray,
        est_bounds: np.ndarray,
        ret_event: np.ndarray,
        normal_event: np.ndarray,
        ar_event: np.ndarray,
        ar_est: np.ndarray,
        x_est: np.ndarray | None,
        x_event: np.ndarray | None,
        car_windows: list[tuple[int, int]],
        excluded: pd.DataFrame,
        garch: tuple[np.ndarray, np.ndarray, np.ndarray] | None,
        settings: dict[str, Any],
    ) -> None:
        self._ids = list(ids)
        self._columns = list(columns)
        self._day0 = day0
        self._model = model
        self._fit = fit
        self._days = np.asarray(days, dtype=np.int64)
        self._ev_dates = ev_dates
        self._est_bounds = est_bounds
        self._ret = ret_event
        self._normal = normal_event
        self._ar = ar_event
        self._ar_est = ar_est
        self._x_est = x_est
        self._x_event = x_event
        self._car_windows = [tuple(map(int, w)) for w in car_windows]
        self._excluded = excluded
        self._garch = garch
        self._settings = dict(settings)
        for a in (
            ev_dates,
            est_bounds,
            ret_event,
            normal_event,
            ar_event,
            ar_est,
            x_est,
            x_event,
            day0,
        ):
            if a is not None:
                a.flags.writeable = False
        self._frozen = True

    def __setattr__(self, name: str, value: Any) -> None:
        if self._frozen:
            raise AttributeError(f"EventStudyResult is read-only (cannot set {name!r})")
        object.__setattr__(self, name, value)

    def __repr__(self) -> str:
        return (
            f"<EventStudyResult model={self._model} securities={self.n_securities} "
            f"excluded={len(self._excluded)} event={self._settings['event']} "
            f"car_windows={self._car_windows}>"
        )

    # -- scalars and settings
    @property
    def model(self) -> str:
        """Name of the normal-return model."""
        return self._model

    @property
    def n_securities(self) -> int:
        """Number of securities (event ids) kept in the study."""
        return len(self._ids)

    @property
    def securities(self) -> list[str]:
        """Ids of the kept securities, in input order."""
        return list(self._ids)

    @property
    def days(self) -> np.ndarray:
        """Event-time offsets of the event-window rows."""
        return self._days.copy()

    @property
    def car_windows(self) -> list[tuple[int, int]]:
        """CAR windows (day offsets, inclusive)."""
        return list(self._car_windows)

    @property
    def settings(self) -> dict[str, Any]:
        """Windows and options the study ran with."""
        return dict(self._settings)

    @cached_property
    def _shared_dates(self) -> np.ndarray | None:
        """Event-window dates when every security has the same date on each row, else None."""
        d = self._ev_dates.astype("datetime64[ns]")
        if d.shape[1] == 0:
            return None
        nat = np.isnat(d)
        if nat.all(axis=1).any():
            return None
        vals = d.view("i8")
        ref = np.where(nat, np.iinfo(np.int64).max, vals).min(axis=1)
        if not (nat | (vals == ref[:, None])).all():
            return None
        return ref.view("datetime64[ns]")

    # -- inference interface
    @cached_property
    def data(self):
        """The :class:`tradeshock.engine.inference.EventData` handed to the test battery."""
        n_params = np.full(self.n_securities, self._fit.n_params, dtype=np.int64)
        return inference.EventData(
            ar_est=self._ar_est,
            ar_event=self._ar,
            days=self._days.copy(),
            n_params=n_params,
            x_est=self._x_est,
            x_event=self._x_event,
            dates=self._shared_dates,
        )

    # -- tidy frames
    def _frame(self, name: str) -> pd.DataFrame:
        return getattr(self, name).copy()

    @cached_property
    def _abnormal_returns(self) -> pd.DataFrame:
        L2, N = self._ar.shape
        ok = np.isfinite(self._ar).T.ravel()
        out = {
            "security": np.repeat(np.array(self._ids, dtype=object), L2)[ok],
            "date": pd.to_datetime(self._ev_dates.T.ravel()[ok]),
            "day": np.tile(self._days, N)[ok],
            "ar": self._ar.T.ravel()[ok],
            "ret": self._ret.T.ravel()[ok],
            "expected": self._normal.T.ravel()[ok],
        }
        if self._garch is not None:
            sd = self._garch[0]
            out["garch_sd"] = sd.T.ravel()[ok]
            out["sar"] = (self._ar / sd).T.ravel()[ok]
        return pd.DataFrame(out)

    @property
    def abnormal_returns(self) -> pd.DataFrame:
        """AR per security and event day: ``security, date, day, ar, ret, expected``.

        ``ret`` is the security's return, ``expected`` the model's normal return (``ar = ret -
        expected``); with ``garch=True`` also ``garch_sd`` and ``sar = ar / garch_sd``.
        """
        return self._frame("_abnormal_returns")

    @property
    def ar_matrix(self) -> pd.DataFrame:
        """ARs wide: event day (rows) × security (columns); NaN only where ``missing='keep'``."""
        return pd.DataFrame(
            self._ar, index=pd.Index(self._days, name="day"), columns=self._ids
        ).copy()

    def _window_sums(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        W = len(self._car_windows)
        N = self.n_securities
        car = np.full((W, N), np.nan)
        bhar = np.full((W, N), np.nan)
        nd = np.zeros((W, N), dtype=np.int64)
        ok = np.isfinite(self._ar)
        ar0 = np.where(ok, self._ar, 0.0)
        g_r = np.where(ok, 1.0 + self._ret, 1.0)
        g_n = np.where(ok, 1.0 + self._normal, 1.0)
        for w, (a, b) in enumerate(self._car_windows):
            s = slice(int(a - self._days[0]), int(b - self._days[0]) + 1)
            nd[w] = ok[s].sum(axis=0)
            has = nd[w] > 0
            car[w] = np.where(has, ar0[s].sum(axis=0), np.nan)
            bhar[w] = np.where(has, g_r[s].prod(axis=0) - g_n[s].prod(axis=0), np.nan)
        return car, bhar, nd

    @cached_property
    def _car(self) -> pd.DataFrame:
        car, bhar, nd = self._window_sums()
        W, N = car.shape
        wa = np.array([w[0] for w in self._car_windows])
        wb = np.array([w[1] for w in self._car_windows])
        df = pd.DataFrame(
            {
                "security": np.tile(np.array(self._ids, dtype=object), W),
                "window_start": np.repeat(wa, N),
                "window_end": np.repeat(wb, N),
                "car": car.ravel(),
                "bhar": bhar.ravel(),
                "n_days": nd.ravel(),
            }
        )
        return df[df["n_days"] > 0].reset_index(drop=True)

    @property
    def car(self) -> pd.DataFrame:
        """CAR and BHAR per security and window.

        Columns ``security, window_start, window_end, car, bhar, n_days``.

        ``bhar = prod(1 + R) - prod(1 + E[R])`` over the window with the model's normal return as
        benchmark (Barber-Lyon 1997); ``n_days`` is the number of observed days in the window.
        """
        return self._frame("_car")

    @cached_property
    def _aar(self) -> pd.DataFrame:
        ok = np.isfinite(self._ar)
        n = ok.sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            aar = np.where(
                n > 0, np.where(ok, self._ar, 0.0).sum(axis=1) / np.maximum(n, 1), np.nan
            )
        sd = self._shared_dates
        return pd.DataFrame(
            {
                "day": self._days,
                "date": pd.to_datetime(sd) if sd is not None else pd.NaT,
                "aar": aar,
                "n": n,
            }
        )

    @property
    def aar(self) -> pd.DataFrame:
        """Average abnormal return per event day: ``day, date, aar, n``.

        ``date`` is the common session date when every security shares it (one day 0 and the same
        sessions), else NaT.
        """
        return self._frame("_aar")

    @cached_property
    def _caar(self) -> pd.DataFrame:
        car, bhar, nd = self._window_sums()
        rows = []
        for w, (a, b) in enumerate(self._car_windows):
            has = nd[w] > 0
            rows.append(
                {
                    "window_start": a,
                    "window_end": b,
                    "caar": car[w][has].mean() if has.any() else np.nan,
                    "mean_bhar": bhar[w][has].mean() if has.any() else np.nan,
                    "n": int(has.sum()),
                }
            )
        df = pd.DataFrame(rows, columns=["window_start", "window_end", "caar", "mean_bhar", "n"])
        return self._with_window_dates(df)

    def _with_window_dates(self, df: pd.DataFrame) -> pd.DataFrame:
        sd = self._shared_dates
        if sd is not None and len(df):
            i0 = (df["window_start"].to_numpy() - self._days[0]).astype(int)
            i1 = (df["window_end"].to_numpy() - self._days[0]).astype(int)
            df = df.copy()
            df["date_start"] = pd.to_datetime(sd[i0])
            df["date_end"] = pd.to_datetime(sd[i1])
        return df

    @property
    def caar(self) -> pd.DataFrame:
        """Cumulative average AR per window: ``window_start, window_end, caar, mean_bhar, n``.

        ``caar`` is the mean CAR across the ``n`` securities (= the sum of the AARs when no day is
        missing); ``date_start``/``date_end`` are added when all securities share the dates.
        """
        return self._frame("_caar")

    @cached_property
    def _estimates(self) -> pd.DataFrame:
        f = self._fit
        first, last = self._est_bounds[:, 0], self._est_bounds[:, 1]
        out: dict[str, Any] = {
            "security": np.array(self._ids, dtype=object),
            "column": np.array(self._columns, dtype=object),
            "model": self._model,
            "day0": pd.to_datetime(self._day0),
        }
        for j, name in enumerate(f.param_names):
            out[name] = f.params[:, j]
        out.update(
            {
                "resid_sd": f.resid_sd,
                "r2": f.r2,
                "n_obs": f.n_obs.astype(np.int64),
                "est_start": pd.to_datetime(first),
                "est_end": pd.to_datetime(last),
            }
        )
        if self._garch is not None:
            _, gp, conv = self._garch
            out["garch_omega"] = gp[:, 0]
            out["garch_alpha"] = gp[:, 1]
            out["garch_beta"] = gp[:, 2]
            out["garch_converged"] = conv
        return pd.DataFrame(out)

    @property
    def estimates(self) -> pd.DataFrame:
        """Estimation statistics per security.

        ``security, column, model, day0, alpha, beta… (or beta_<factor>), resid_sd, r2, n_obs,
        est_start, est_end``: ``resid_sd = sqrt(SSR / (n_obs - p))``, the OLS standard error of
        the regression (the battery standardizes with its own estimator, documented in
        :mod:`tradeshock.engine.inference`: the residuals' sample sd, as estudy2);
        ``est_start``/``est_end`` are the first and last estimation rows actually used. For
        ``market_adjusted`` alpha = 0 and beta = 1 are fixed by the model, not estimated.
        """
        return self._frame("_estimates")

    @property
    def excluded(self) -> pd.DataFrame:
        """Securities left out, one row each: ``security, reason, detail`` (reasons:
        :data:`EXCLUSION_REASONS`)."""
        return self._excluded.copy()

    # -- tests
    def car_by_security(
        self, windows: Any = None, level: float = 0.95
    ) -> pd.DataFrame:
        """Test each security's CAR: :func:`tradeshock.engine.inference.car_by_security`.

        ``windows``: one window of day offsets inside the event window (``(0, 3)``, ``"0:3"``) or a
        list of them; default: the result's CAR windows. Any window inside the event window
        works, not only the CAR windows of the study. ``level``: coverage of the interval.

        Returns one row per security (event id) with a return in the window, windows in the
        order given: ``security, window_start, window_end, car, se, statistic, df, p_value,
        ci_low, ci_high, n_days`` (fractions). ``se = s_i sqrt(L_i + xs_i'(X_i'X_i)^-1 xs_i)``
        includes the estimation error of the normal-return model; ``statistic = car / se`` is
        read against Student t with ``df = T_i - k_i`` (Campbell, Lo and MacKinlay 1997, ch. 4).
        """
        days = self._days
        if windows is None:
            wins = list(self._car_windows)
        else:
            if _is_one_window(windows):
                windows = [windows]
            wins = []
            for w in windows:
                a, b = parse_window(w, f"CAR window {w!r}", kind="days").bounds
                if len(days) == 0 or a < days[0] or b > days[-1]:
                    span = f"days {days[0]}..{days[-1]}" if len(days) else "no days"
                    raise StudyError(
                        f"CAR window {w!r} (days {a}..{b}) is not inside the event window "
                        f"({span}); choose a window within it"
                    )
                wins.append((a, b))
        tab = inference.car_by_security(self.data, wins, level=level)
        tab["security"] = np.array(self._ids, dtype=object)[tab["security"].to_numpy(dtype=int)]
        return tab

    def security_car_t(self, windows: Any) -> pd.DataFrame:
        """Each observation's CAR over its own window with its t test
        (:func:`tradeshock.engine.groups.security_car_t`): ``windows`` is one ``(start, end)``
        pair, an ``(N, 2)`` array in the order of :attr:`securities`, or a mapping id -> pair."""
        from tradeshock.engine.groups import security_car_t

        return security_car_t(self, windows)

    def group_car_tests(self, groups: Any, windows: Any, tests: Any = None, *,
                        n_boot: int | None = None, seed: int | None = None,
                        rbar: bool = True) -> pd.DataFrame:
        """The CAR test battery on each group of observations of this one result
        (:func:`tradeshock.engine.groups.group_car_tests`), without re-estimating: ``groups`` maps
        a key to observation ids, ``windows`` is a list of windows (or key -> list), ``tests``
        names of :data:`tradeshock.engine.inference.CAR_TESTS` (default all). The bootstrap
        draws and seed default to the study's."""
        from tradeshock.engine.groups import group_car_tests

        st = self._settings
        return group_car_tests(self, groups, windows, tests,
                               n_boot=st["n_boot"] if n_boot is None else n_boot,
                               seed=st["seed"] if seed is None else seed, rbar=rbar)

    @cached_property
    def _tests(self) -> pd.DataFrame:
        st = self._settings
        tab = inference.daily_tests(self.data, st["tests"])
        if "date" not in tab.columns:
            dmap = self._aar.set_index("day")["date"]
            tab.insert(1, "date", tab["day"].map(dmap).to_numpy())
        if st["adjust"]:
            tab = inference.adjust_pvalues(tab, st["adjust"], by=["test"])
        return tab

    @property
    def tests(self) -> pd.DataFrame:
        """Daily tests of the AAR (:func:`tradeshock.engine.inference.daily_tests`) with a ``date`` column.

        ``day, date, test, statistic, p_value, n`` (+ ``p_adjusted`` with ``adjust=``, per test
        across days).
        """
        return self._frame("_tests")

    @cached_property
    def _car_tests(self) -> pd.DataFrame:
        st = self._settings
        tab = inference.car_tests(
            self.data, self._car_windows, st["car_test_names"], n_boot=st["n_boot"], seed=st["seed"]
        )
        if st["adjust"]:
            tab = inference.adjust_pvalues(tab, st["adjust"], by=["test"])
        return self._with_window_dates(tab)

    @property
    def car_tests(self) -> pd.DataFrame:
        """CAAR tests per window (:func:`tradeshock.engine.inference.car_tests`), with window dates when
        shared (+ ``p_adjusted`` with ``adjust=``, per test across windows)."""
        return self._frame("_car_tests")

    # -- presentation (tradeshock.engine.present)
    def summary(self, tests: bool = True) -> Summary:
        """Settings, CAAR per window, each window's test battery and the AAR per day, as a
        :class:`~tradeshock.core.tables.Summary` (``str()`` for text, HTML in Jupyter)."""
        return present.summary(self, tests=tests)

    def to_frame(self, percent: bool = False) -> pd.DataFrame:
        """CAR (and BHAR) per security and window, tidy; ``percent=True`` scales the returns
        to percent (the columns say so: ``car_pct``, ``bhar_pct``)."""
        out = self.car.copy()
        if percent:
            for col in ("car", "bhar"):
                if col in out:
                    out[f"{col}_pct"] = 100 * out.pop(col)
        return out

    def _repr_html_(self) -> str:
        return self.summary(tests=False).as_html()

    def __str__(self) -> str:
        return self.summary(tests=False).as_text()
