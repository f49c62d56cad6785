""""TACO" tested: did markets' reactions to tariff escalations shrink through 2025?

The press claim (the "TACO" trade, from May 2025 on): markets priced escalations less because they
expected them to be walked back. Tested here, never asserted, on the event × market table of
:mod:`tradeshock.analyses.calendar_study`:

* :func:`taco_test` regresses each market's reaction to escalation-like sessions on time by OLS
  with HC3 standard errors, in two forms. **Signed** AR (primary): escalations should move the
  market *down*, so the claim predicts a *positive* slope (reactions less negative later); the
  sign is kept because an escalation followed by a rise is not "a large reaction". **Absolute**
  AR (secondary): the claim predicts a *negative* slope (smaller moves either way); it does not
  depend on the sign but counts a rally on threat news as a reaction. Time is the number of
  calendar days since the first session (slope per 30 days) or the session's order. It also
  compares the mean reaction before and after a break date (the claim's May 2025), reports
  confidence intervals and the **minimum detectable slope** at the chosen power, so that a
  non-significant slope is read with its power, not as "no effect";
* the asymmetry of reactions: de-escalation vs escalation sessions (is a walk-back worth more, in
  absolute value, than the threat?), Welch's t test.

All ARs are simple returns as fractions in the frames; slopes are in fractions per 30 days (or per
session); text shows percentage points.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import optimize, stats
from statsmodels.stats.multitest import multipletests

from tradeshock.analyses.calendar_study import MarketTable
from tradeshock.errors import StudyError

__all__ = [
    "BREAK_DATE",
    "SPECS",
    "TacoResult",
    "min_detectable_effect",
    "ols_hc3_slope",
    "taco_test",
    "welch_difference",
]

#: The month from which the press claim dates (issue 18): "from May 2025 on".
BREAK_DATE = "2025-05-01"
#: (y, x) specifications of the regression: y ``signed`` or ``absolute`` AR; x ``days`` (per 30
#: calendar days) or ``order`` (per session).
SPECS: tuple[tuple[str, str], ...] = (("signed", "days"), ("absolute", "days"), ("signed", "order"))
_MIN_N = 4


def min_detectable_effect(se: float, df: float, *, alpha: float = 0.05,
                          power: float = 0.80) -> float:
    """Smallest true coefficient a two-sided t test at ``alpha`` detects with probability ``power``.

    With ``T = b_hat / se ~ noncentral t(df, delta = b / se)``, solve
    ``P(|T| > t_{1-alpha/2, df}) = power`` for ``delta`` (scipy's noncentral t), and return
    ``delta * se``. For large ``df`` this tends to ``(z_{1-alpha/2} + z_power) * se`` (2.80 se at
    5 % and 80 %), the minimum detectable effect of Bloom (1995), Minimum detectable effects,
    Evaluation Review 19(5), 547-556. NaN when ``se`` or ``df`` is not positive.
    """
    if not (np.isfinite(se) and se > 0 and np.isfinite(df) and df > 0):
        return float("nan")
    if not (0 < alpha < 1 and 0 < power < 1):
        raise StudyError(f"alpha {alpha} and power {power} must lie in (0, 1)")
    crit = stats.t.ppf(1 - alpha / 2, df)

    def gap(delta: float) -> float:
        return stats.nct.sf(crit, df, delta) + stats.nct.cdf(-crit, df, delta) - power

    hi = crit + stats.norm.ppf(power)
    while gap(hi) < 0:  # power rises with delta; widen the bracket until it is reached
        hi *= 1.5
    return float(optimize.brentq(gap, 0.0, hi, xtol=1e-10) * se)


def ols_hc3_slope(x: np.ndarray, y: np.ndarray, *, level: float = 0.95, alpha: float = 0.05,
                  power: float = 0.80) -> dict[str, float]:
    """OLS of ``y`` on a constant and ``x`` with HC3 standard errors (statsmodels).

    HC3 (MacKinnon and White 1985, Journal of Econometrics 29(3), 305-325) is the
    heteroskedasticity-consistent covariance recommended for small samples (Long and Ervin 2000,
    The American Statistician 54(3), 217-224); inference uses t with ``n - 2`` degrees of freedom.
    Returns ``n, intercept, slope, se, t, p, ci_low, ci_high, mds`` (minimum detectable slope at
    ``alpha``/``power``, :func:`min_detectable_effect`), ``se_classical``, ``r2`` and the HC3
    ``var_intercept`` and ``cov_intercept_slope`` (for a confidence band of the fitted line).
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    ok = np.isfinite(x) & np.isfinite(y)
    x, y = x[ok], y[ok]
    n = int(x.size)
    out = {"n": n, "intercept": np.nan, "slope": np.nan, "se": np.nan, "t": np.nan, "p": np.nan,
           "ci_low": np.nan, "ci_high": np.nan, "mds": np.nan, "se_classical": np.nan,
           "r2": np.nan, "var_intercept": np.nan, "cov_intercept_slope": np.nan}
    if n < _MIN_N or np.ptp(x) == 0:
        return out
    X = sm.add_constant(x, has_constant="add")
    fit = sm.OLS(y, X).fit(cov_type="HC3", use_t=True)
    ci = fit.conf_int(alpha=1 - level)
    se = float(fit.bse[1])
    out.update(intercept=float(fit.params[0]), slope=float(fit.params[1]), se=se,
               t=float(fit.tvalues[1]), p=float(fit.pvalues[1]), ci_low=float(ci[1, 0]),
               ci_high=float(ci[1, 1]), mds=min_detectable_effect(se, n - 2, alpha=alpha,
                                                                  power=power),
               se_classical=float(sm.OLS(y, X).fit().bse[1]), r2=float(fit.rsquared),
               var_intercept=float(fit.cov_params()[0, 0]),
               cov_intercept_slope=float(fit.cov_params()[0, 1]))
    return out


def welch_difference(a: np.ndarray, b: np.ndarray, *, level: float = 0.95) -> dict[str, float]:
    """Mean of ``a`` minus mean of ``b`` with Welch's unequal-variance t test and its interval.

    ``scipy.stats.ttest_ind(a, b, equal_var=False)``; degrees of freedom by Welch-Satterthwaite
    (Welch 1947, Biometrika 34(1/2), 28-35). Returns ``n_a, n_b, mean_a, mean_b, diff, se, t,
    df, p, ci_low, ci_high`` (NaN where a group has fewer than two values).
    """
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    a, b = a[np.isfinite(a)], b[np.isfinite(b)]
    out = {"n_a": int(a.size), "n_b": int(b.size),
           "mean_a": float(a.mean()) if a.size else np.nan,
           "mean_b": float(b.mean()) if b.size else np.nan, "diff": np.nan, "se": np.nan,
           "t": np.nan, "df": np.nan, "p": np.nan, "ci_low": np.nan, "ci_high": np.nan}
    if a.size < 2 or b.size < 2:
        return out
    res = stats.ttest_ind(a, b, equal_var=False)
    ci = res.confidence_interval(level)
    va, vb = a.var(ddof=1) / a.size, b.var(ddof=1) / b.size
    out.update(diff=float(a.mean() - b.mean()), se=float(np.sqrt(va + vb)),
               t=float(res.statistic), df=float(res.df), p=float(res.pvalue),
               ci_low=float(ci.low), ci_high=float(ci.high))
    return out


def _points(table: MarketTable, markets: Sequence[str], measure: str) -> pd.DataFrame:
    t = table.to_frame()
    ses = table.sessions.sessions.set_index("session_id")
    sel = t[t["market"].isin(markets)][["session_id", "market", "direction", "day0", measure]]
    sel = sel.rename(columns={measure: "ar"})
    sel["days"] = sel["session_id"].map(ses["days_since_first"]).astype(float)
    return sel.dropna(subset=["ar"]).reset_index(drop=True)


def taco_test(
    table: MarketTable,
    *,
    markets: Sequence[str] | None = None,
    measure: str = "ar_reaction",
    variant: str = "all",
    break_date: str = BREAK_DATE,
    specs: Sequence[tuple[str, str]] = SPECS,
    level: float = 0.95,
    alpha: float = 0.05,
    power: float = 0.80,
) -> TacoResult:
    """Test whether escalation reactions shrank through 2025, and the de-/escalation asymmetry.

    ``markets``: default the S&P 500 and the sector ETFs of the table (group ``us_sector``).
    ``measure``: ``ar_reaction`` (default; the day-0 AR, or the two-session AR of untimed news) or
    ``ar0``/``car``. ``variant``: ``all``, ``no_overlap`` or ``all_timed`` sessions (as the pooled
    study). For each market and spec of ``specs`` (:data:`SPECS`), :func:`ols_hc3_slope` on the
    escalation-like sessions (direction ``escalation``; mixed sessions are left out); ``x = days
    since the first session / 30`` or the order among those sessions (1, 2, ...). Markets with
    fewer than four escalation sessions get NaN rows (a slope needs them). Then, per market,
    the mean reaction before vs from ``break_date`` (:func:`welch_difference`) and the asymmetry
    ``mean(de-escalation) - (-mean(escalation))``: positive when a walk-back moves the market more
    than a threat (Welch's test of the de-escalation ARs against the sign-flipped escalation ARs).
    """
    t = table.to_frame()
    if markets is None:
        markets = [m for m in ["^GSPC"] if m in set(t["market"])]
        markets += list(dict.fromkeys(t.loc[t["group"] == "us_sector", "market"]))
    markets = list(markets)
    if not markets:
        raise StudyError("taco_test: no market to test; pass markets=[...]")
    if variant not in ("all", "no_overlap", "all_timed"):
        raise StudyError(f"variant={variant!r}: use all, no_overlap or all_timed")
    bad = [s for s in specs if s[0] not in ("signed", "absolute") or s[1] not in ("days", "order")]
    if bad:
        raise StudyError(f"specs {bad}: y is 'signed' or 'absolute', x is 'days' or 'order'")
    pts = _points(table, markets, measure)
    flag = "overlap_car" if measure == "car" else "overlap_reaction"
    keep = t.drop_duplicates("session_id").set_index("session_id")
    if variant == "no_overlap":
        pts = pts[~pts["session_id"].map(keep[flag]).astype(bool)]
    elif variant == "all_timed":
        pts = pts[pts["session_id"].map(keep["all_timed"]).astype(bool)]
    brk = pd.Timestamp(break_date)
    reg, before_after, asym = [], [], []
    for m in markets:
        p = pts[pts["market"] == m]
        esc = p[p["direction"] == "escalation"].sort_values("day0")
        de = p[p["direction"] == "de-escalation"]
        for y_kind, x_kind in specs:
            y = esc["ar"].to_numpy(dtype=float)
            y = np.abs(y) if y_kind == "absolute" else y
            x = esc["days"].to_numpy() / 30.0 if x_kind == "days" else np.arange(1, len(esc) + 1)
            reg.append({"market": m, "y": y_kind, "x": x_kind,
                        **ols_hc3_slope(x, y, level=level, alpha=alpha, power=power)})
        before = esc.loc[esc["day0"] < brk, "ar"].to_numpy(dtype=float)
        after = esc.loc[esc["day0"] >= brk, "ar"].to_numpy(dtype=float)
        after_zero = (float(stats.ttest_1samp(after, 0.0).pvalue) if after.size >= 2
                      else np.nan)
        before_after.append({"market": m, **welch_difference(after, before, level=level),
                             "p_after_zero": after_zero})
        asym.append({"market": m, **welch_difference(de["ar"].to_numpy(dtype=float),
                                                     -esc["ar"].to_numpy(dtype=float),
                                                     level=level)})
    reg_df = pd.DataFrame(reg)
    reg_df["p_holm"] = np.nan
    for _, g in reg_df.groupby(["y", "x"]):
        ok = g["p"].notna()
        if ok.any():
            reg_df.loc[g.index[ok], "p_holm"] = multipletests(g.loc[ok, "p"], method="holm")[1]
    ba = pd.DataFrame(before_after).rename(columns={"n_a": "n_after", "n_b": "n_before",
                                                    "mean_a": "mean_after",
                                                    "mean_b": "mean_before"})
    asy = pd.DataFrame(asym).rename(columns={"n_a": "n_deescalation", "n_b": "n_escalation",
                                             "mean_a": "mean_deescalation",
                                             "mean_b": "minus_mean_escalation"})
    return TacoResult(reg_df, ba, asy, pts, settings={
        "measure": measure, "variant": variant, "break_date": brk, "level": level,
        "alpha": alpha, "power": power, "markets": markets, "specs": tuple(specs)})


class TacoResult:
    """Result of :func:`taco_test`.

    * ``regressions`` (``to_frame()``): ``market, y, x, n, intercept, slope, se, t, p, ci_low,
      ci_high, mds, se_classical, r2, p_holm`` (Holm 1979 across markets, per spec); slopes in
      fractions per 30 days (``x="days"``) or per session (``x="order"``); ``mds`` the minimum
      detectable slope (absolute value);
    * ``before_after``: escalation reactions from the break date minus before it (Welch), and
      ``p_after_zero``: the one-sample t test of the reactions from the break date against zero;
    * ``asymmetry``: mean de-escalation reaction minus the sign-flipped mean escalation reaction;
    * ``points``: the session values used (``session_id, market, direction, day0, ar, days``).
    """

    def __init__(self, regressions, before_after, asymmetry, points, settings) -> None:
        self.regressions = regressions
        self.before_after = before_after
        self.asymmetry = asymmetry
        self.points = points
        self.settings = settings

    def get(self, market: str = "^GSPC", y: str = "signed", x: str = "days") -> pd.Series:
        """One regression row."""
        r = self.regressions
        sel = r[(r["market"] == market) & (r["y"] == y) & (r["x"] == x)]
        if sel.empty:
            raise StudyError(f"no TACO regression for {market}, y={y}, x={x}")
        return sel.iloc[0]

    def to_frame(self) -> pd.DataFrame:
        """The regressions table."""
        return self.regressions.copy()

    def summary(self) -> str:
        """Text tables: slopes with CIs and minimum detectable slopes; break and asymmetry."""
        st = self.settings
        lvl = int(round(100 * st["level"]))
        lines = ["TACO: escalation reactions on time, OLS with HC3 errors".center(78), "=" * 78,
                 f"measure {st['measure']}, sessions: {st['variant']}; slopes in pp per 30 days "
                 f"(x=days) or per session (x=order); MDS at {int(100 * st['power'])}% power, "
                 f"alpha {st['alpha']}",
                 f"{'market':<10}{'y':<9}{'x':<6}{'n':>3}{'slope':>8}{f'{lvl}% CI':>18}"
                 f"{'p':>7}{'MDS':>7}"]
        for r in self.regressions.itertuples():
            ci = (f"[{100 * r.ci_low:+.2f}, {100 * r.ci_high:+.2f}]"
                  if np.isfinite(r.ci_low) else "-")
            lines.append(f"{r.market:<10}{r.y:<9}{r.x:<6}{r.n:>3}{100 * r.slope:>8.3f}{ci:>18}"
                         f"{r.p:>7.3f}{100 * r.mds:>7.3f}")
        lines += ["-" * 78, f"Escalation reactions from {st['break_date']:%d %b %Y} minus before "
                  "(pp, Welch)"]
        for r in self.before_after.itertuples():
            lines.append(f"{r.market:<10} before {100 * r.mean_before:+.2f} (n={r.n_before}), "
                         f"after {100 * r.mean_after:+.2f} (n={r.n_after}), diff "
                         f"{100 * r.diff:+.2f}, p={r.p:.3f}")
        lines += ["-" * 78, "Asymmetry: mean de-escalation AR minus (-mean escalation AR), pp"]
        for r in self.asymmetry.itertuples():
            lines.append(f"{r.market:<10} de-esc {100 * r.mean_deescalation:+.2f} "
                         f"(n={r.n_deescalation}), -esc {100 * r.minus_mean_escalation:+.2f} "
                         f"(n={r.n_escalation}), diff {100 * r.diff:+.2f}, p={r.p:.3f}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    def figure(self, market: str = "^GSPC", *, source: str | None = None, as_of: Any = None,
               name: str | None = None):
        """Scatter of ``market``'s reactions by date (escalation and de-escalation), with the
        fitted signed-AR line of escalations and its pointwise confidence band (HC3, t with
        ``n - 2`` dof, the result's ``level``); house style. ``name``: the market's name in the
        title (default: known index names, else the symbol)."""
        import matplotlib.pyplot as plt  # noqa: F401 - backend set by use_house_style

        from tradeshock.analyses.figures import add_source_line, new_figure

        p = self.points[self.points["market"] == market]
        if p.empty:
            raise StudyError(f"TacoResult.figure: no points for {market!r}")
        label = {"^GSPC": "S&P 500", "^IXIC": "Nasdaq Composite", "^RUT": "Russell 2000"}
        fig, ax = new_figure(
            title=f"{name or label.get(market, market)} ({market}): reaction to tariff news "
                  f"through {p['day0'].max():%Y}",
            xlabel="Day 0 of the session", ylabel="Abnormal return, reaction window", yunits="%")
        colors = {"escalation": "#B3261E", "de-escalation": "#009E73"}
        for d, c in colors.items():
            q = p[p["direction"] == d]
            ax.scatter(q["day0"], 100 * q["ar"], color=c, label=f"{d} ({len(q)})", zorder=3)
        r = self.get(market, "signed", "days")
        esc = p[p["direction"] == "escalation"].sort_values("day0")
        if np.isfinite(r["slope"]) and len(esc):
            xs = np.linspace(esc["days"].min(), esc["days"].max(), 50)
            x0 = esc["day0"].min() - pd.Timedelta(days=float(esc["days"].min()))
            dates = x0 + pd.to_timedelta(xs, unit="D")
            u = xs / 30.0
            fitted = r["intercept"] + r["slope"] * u
            sd = np.sqrt(np.maximum(r["var_intercept"] + u * u * r["se"] ** 2
                                    + 2 * u * r["cov_intercept_slope"], 0.0))
            q = stats.t.ppf(0.5 + self.settings["level"] / 2, r["n"] - 2)
            ax.plot(dates, 100 * fitted, color="#B3261E",
                    label=f"escalation trend {100 * r['slope']:+.2f} pp / 30 days")
            ax.fill_between(dates, 100 * (fitted - q * sd), 100 * (fitted + q * sd),
                            color="#B3261E", alpha=0.12, lw=0,
                            label=f"{int(round(100 * self.settings['level']))}% band (HC3)")
        ax.axvline(self.settings["break_date"], color="grey", ls=":", lw=1)
        ax.axhline(0, color="black", lw=0.6)
        ax.legend(loc="best")
        add_source_line(fig, source or "tradeshock market data",
                        as_of if as_of is not None else p["day0"].max(),
                        note=("OLS with HC3 errors; dotted line: "
                              f"{self.settings['break_date']:%d %b %Y}."))
        return fig
