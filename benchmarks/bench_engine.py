"""Benchmark of the event-study engine (not a test): ``python benchmarks/bench_engine.py``.

For N = 10, 100, 500, 2000 securities, T = 300 days of synthetic returns (market model, seed
fixed; no market data), estimation window -260..-11, a 5-day event window -2..+2 and CAR windows
(-2, 2) and (0, 0), it times in one run:

* **ours**: :func:`tradeshock.study.event_study` with the market model, then every output frame
  (ARs, CARs/BHARs, AAR, CAAR, estimates) and the whole battery (13 daily tests x 5 days, 12 CAR
  tests x 2 windows including a 2000-draw bootstrap);
* **naive**: what a straightforward implementation does: one ``statsmodels`` OLS fit and
  ``get_prediction`` per security (ARs, forecast-error factors), per-security standardization,
  ranks (``scipy.stats.rankdata``) and CARs in a loop over securities, then each test per day and
  per window with scipy (t, Wilcoxon), ``pandas.DataFrame.corr`` for Kolari-Pynnönen's average
  correlation and a Python loop of bootstrap draws. It computes the same statistics as ours; the
  script checks that they agree before it reports a time.

Times are the best of ``--repeat`` runs after a warm-up (the naive loop runs once for N >= 500);
``core`` is ours without the battery (estimation, ARs, CAR/BHAR, AAR/CAAR, estimates as frames),
``battery`` the rest (``tradeshock.inference``). ``max rel diff`` is the largest relative difference
between the two implementations' statistics (bootstrap excluded: different draws).
Memory: peak of Python allocations (``tracemalloc``) during one run of ours, and the process's
peak resident set size at the end. Targets (issue 5): N = 500 in under 0.5 s, ratio >= 50x,
memory under 1 GB at N = 2000.
"""

from __future__ import annotations

import argparse
import platform
import resource
import sys
import time
import tracemalloc

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import stats
from tradeshock.engine.study import event_study

T_DAYS = 300
DAY0_ROW = 285
EST = (-260, -11)
EVENT = (-2, 2)
WINDOWS = [(-2, 2), (0, 0)]
N_BOOT = 2000


def synthetic(n: int, seed: int = 20250402) -> tuple[pd.DataFrame, pd.Series]:
    """Synthetic market-model returns with a common factor (cross-correlation) and an event."""
    rng = np.random.default_rng(seed)
    idx = pd.bdate_range("2024-06-03", periods=T_DAYS)
    m = rng.normal(0.0003, 0.011, T_DAYS)
    common = rng.normal(0, 0.004, T_DAYS)
    beta = rng.uniform(0.4, 1.6, n)
    r = 0.0002 + m[:, None] * beta + common[:, None] + rng.normal(0, 0.016, (T_DAYS, n))
    r[DAY0_ROW] -= 0.02  # a selloff on day 0
    cols = [f"S{i:04d}" for i in range(n)]
    return pd.DataFrame(r, idx, columns=cols), pd.Series(m, idx, name="MKT")


def run_ours(r: pd.DataFrame, m: pd.Series, battery: bool = True) -> dict[str, pd.DataFrame]:
    res = event_study(
        r,
        r.index[DAY0_ROW],
        model="market",
        market=m,
        estimation=EST,
        event=EVENT,
        car_windows=WINDOWS,
        n_boot=N_BOOT,
        seed=0,
    )
    out = {
        "ar": res.abnormal_returns,
        "car": res.car,
        "aar": res.aar,
        "caar": res.caar,
        "estimates": res.estimates,
    }
    if battery:
        out.update(tests=res.tests, car_tests=res.car_tests)
    return out


# ------------------------------------------------------------------------------- naive loop
def _p_norm(z: float) -> float:
    return float(2 * stats.norm.sf(abs(z)))


def _p_t(t: float, df: float) -> float:
    return float(2 * stats.t.sf(abs(t), df))


def run_naive(r: pd.DataFrame, m: pd.Series) -> dict[str, dict]:
    """One OLS per security, then the tests per security / per day with scipy. Complete data."""
    values = r.to_numpy()
    mk = m.to_numpy()
    e0, e1 = DAY0_ROW + EST[0], DAY0_ROW + EST[1]
    v0, v1 = DAY0_ROW + EVENT[0], DAY0_ROW + EVENT[1]
    days = list(range(EVENT[0], EVENT[1] + 1))
    X_est = sm.add_constant(mk[e0 : e1 + 1])
    X_ev = sm.add_constant(mk[v0 : v1 + 1], has_constant="add")
    N = values.shape[1]
    L1, L2 = e1 - e0 + 1, v1 - v0 + 1
    resid_all, ar_all, sar_all = [], [], []
    s_all, pos_share, G_all, U_all, dev_all = [], [], [], [], []
    win = {w: {"car": [], "scar": [], "rankrows": []} for w in WINDOWS}
    estimates = []
    for j in range(N):  # --- per security
        y = values[e0 : e1 + 1, j]
        fit = sm.OLS(y, X_est).fit()
        pred = fit.get_prediction(X_ev)
        ar = values[v0 : v1 + 1, j] - pred.predicted_mean
        resid = fit.resid
        s = np.std(resid, ddof=1)
        c2 = 1.0 + pred.se_mean**2 / fit.scale  # 1 + x'(X'X)^-1 x
        sar = ar / (s * np.sqrt(c2))
        full = np.concatenate([resid, ar])
        K = stats.rankdata(full)
        U_all.append(K / (len(full) + 1) - 0.5)
        dev_all.append(K - (len(full) + 1) / 2)
        G_all.append(np.sign(full - np.median(full)))
        pos_share.append(np.mean(resid > 0))
        xtx_inv = fit.normalized_cov_params
        for w in WINDOWS:
            sel = [k for k, d in enumerate(days) if w[0] <= d <= w[1]]
            car = ar[sel].sum()
            xs = X_ev[sel].sum(axis=0)
            scar = car / (s * np.sqrt(len(sel) + xs @ xtx_inv @ xs))
            win[w]["car"].append(car)
            win[w]["scar"].append(scar)
            win[w]["rankrows"].append(stats.rankdata(np.concatenate([resid, ar[sel]])))
        resid_all.append(resid)
        ar_all.append(ar)
        sar_all.append(sar)
        s_all.append(s)
        estimates.append((fit.params[0], fit.params[1], np.sqrt(fit.scale), fit.rsquared))
    E = np.column_stack(resid_all)
    A = np.column_stack(ar_all)
    SAR = np.column_stack(sar_all)
    s_arr = np.array(s_all)
    pvar = (L1 - 2) / (L1 - 4)
    aar_est = E.mean(axis=1)
    sd_aar = np.std(aar_est, ddof=1)
    corr = pd.DataFrame(E).corr().to_numpy()
    rbar = (corr.sum() - N) / (N * (N - 1))
    kp = np.sqrt((1 - rbar) / (1 + (N - 1) * rbar))
    p_hat = float(np.mean(pos_share))
    G = np.column_stack(G_all)
    U = np.column_stack(U_all)
    Dv = np.column_stack(dev_all)
    S_G = np.sqrt(np.sum((G.sum(axis=1) / np.sqrt(N)) ** 2) / (L1 + L2))
    S_U = np.sqrt(np.sum((U.sum(axis=1) / np.sqrt(N)) ** 2) / (L1 + L2))
    D = Dv.mean(axis=1)
    S_K = np.sqrt(np.sum(D**2) / (L1 + L2))
    x_ev = mk[v0 : v1 + 1]
    mbar = mk[e0 : e1 + 1].mean()
    sxx = ((mk[e0 : e1 + 1] - mbar) ** 2).sum()
    daily = {}
    for t, d in enumerate(days):  # --- per day
        a, z = A[t], SAR[t]
        aar = a.mean()
        bmp = stats.ttest_1samp(z, 0.0).statistic
        w_pos = int((a > 0).sum())
        lamb = aar / (sd_aar * np.sqrt(1 + 1 / L1 + (x_ev[t] - mbar) ** 2 / sxx))
        stat = {
            "brown_warner_1980": aar / (np.sqrt((s_arr**2).sum()) / N),
            "brown_warner_1985": aar / sd_aar,
            "t_test": stats.ttest_1samp(a, 0.0).statistic,
            "patell": z.sum() / np.sqrt(N * pvar),
            "boehmer": bmp,
            "lamb": lamb,
            "sign": (w_pos - N / 2) / np.sqrt(N / 4),
            "generalized_sign": (w_pos - N * p_hat) / np.sqrt(N * p_hat * (1 - p_hat)),
            "corrado_sign": (G[L1 + t].sum() / np.sqrt(N)) / S_G,
            "rank": D[L1 + t] / S_K,
            "modified_rank": (U[L1 + t].sum() / np.sqrt(N)) / S_U,
            "kolari_pynnonen": bmp * kp,
        }
        wx = stats.wilcoxon(a, zero_method="wilcox")
        stat["wilcoxon"] = stats.rankdata(np.abs(a))[a > 0].sum()  # estudy2's W
        pv = {k: _p_norm(v) for k, v in stat.items()}
        pv.update(
            t_test=_p_t(stat["t_test"], N - 1),
            boehmer=_p_t(bmp, N - 1),
            kolari_pynnonen=_p_t(stat["kolari_pynnonen"], N - 1),
            brown_warner_1980=_p_t(stat["brown_warner_1980"], L1 - 1),
            brown_warner_1985=_p_t(stat["brown_warner_1985"], L1 - 1),
            wilcoxon=wx.pvalue,
        )
        daily[d] = (stat, pv)
    car_out = {}
    rng = np.random.default_rng(0)
    for w in WINDOWS:  # --- per window
        sel = [k for k, d in enumerate(days) if w[0] <= d <= w[1]]
        car = np.array(win[w]["car"])
        scar = np.array(win[w]["scar"])
        caar = car.mean()
        bmp = stats.ttest_1samp(scar, 0.0).statistic
        lamb_days = [daily[days[k]][0]["lamb"] for k in sel]
        # Corrado rank over estimation + window rows
        K = np.column_stack(win[w]["rankrows"])
        kbar = (K.shape[0] + 1) / 2
        rowm = K.mean(axis=1)
        sk = np.sqrt(((rowm - kbar) ** 2).sum() / K.shape[0])
        rank_stat = np.sqrt(len(sel)) * (K[L1:].mean() - kbar) / sk
        # GRANK
        zstar = scar / np.std(scar, ddof=1)
        Gs = np.vstack([E / s_arr, zstar[None, :]])
        Ug = np.column_stack([stats.rankdata(Gs[:, i]) for i in range(N)]) / (L1 + 2) - 0.5
        ubar = Ug.mean(axis=1)
        su = np.sqrt((ubar**2).sum() / (L1 + 1))
        Z = ubar[-1] / su
        grank = Z * np.sqrt((L1 - 1) / (L1 - Z * Z))
        means = []
        for _ in range(N_BOOT):  # bootstrap draws, one at a time
            means.append(car[rng.integers(0, N, N)].mean())
        means = np.array(means)
        wpos = int((car > 0).sum())
        stat = {
            "brown_warner_1985": A[sel].mean(axis=1).sum() / (sd_aar * np.sqrt(len(sel))),
            "t_test": stats.ttest_1samp(car, 0.0).statistic,
            "patell": scar.sum() / np.sqrt(N * pvar),
            "boehmer": bmp,
            "kolari_pynnonen": bmp * kp,
            "lamb": np.sum(lamb_days) / np.sqrt(len(sel)),
            "rank": rank_stat,
            "grank": grank,
            "generalized_sign": (wpos - N * p_hat) / np.sqrt(N * p_hat * (1 - p_hat)),
            "wilcoxon": stats.rankdata(np.abs(car))[car > 0].sum(),
            "sign": (wpos - N / 2) / np.sqrt(N / 4),
            "bootstrap": caar / means.std(ddof=1),
        }
        stats.wilcoxon(car)
        np.percentile(means, [2.5, 97.5])
        car_out[w] = stat
    return {"daily": daily, "car": car_out, "estimates": estimates, "ar": A}


def check_agreement(ours: dict[str, pd.DataFrame], naive: dict) -> float:
    """Largest relative difference between our statistics and the naive loop's."""
    worst = 0.0
    t = ours["tests"]
    for d, (stat, _) in naive["daily"].items():
        for name, v in stat.items():
            o = t[(t.day == d) & (t.test == name)].statistic.iloc[0]
            worst = max(worst, abs(o - v) / max(abs(v), 1e-12))
    ct = ours["car_tests"]
    for (a, b), stat in naive["car"].items():
        for name, v in stat.items():
            if name == "bootstrap":  # different draws: only the same order of magnitude
                continue
            o = ct[
                (ct.window_start == a) & (ct.window_end == b) & (ct.test == name)
            ].statistic.iloc[0]
            worst = max(worst, abs(o - v) / max(abs(v), 1e-12))
    est = ours["estimates"]
    nb = np.array([e[1] for e in naive["estimates"]])
    worst = max(worst, float(np.max(np.abs(est["beta"].to_numpy() / nb - 1))))
    return worst


def best_time(fn, repeat: int) -> tuple[float, object]:
    best, out = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[10, 100, 500, 2000])
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args(argv)
    print(
        f"tradeshock engine benchmark: T={T_DAYS} days, estimation {EST}, event {EVENT}, "
        f"CAR windows {WINDOWS}, market model, 13 daily + 12 CAR tests (bootstrap {N_BOOT} draws)"
    )
    print(
        f"python {platform.python_version()}, numpy {np.__version__}, pandas {pd.__version__}, "
        f"{platform.machine()}; synthetic data (seeded), not market data"
    )
    r, m = synthetic(50)
    run_ours(r, m)  # warm-up: imports, caches
    run_naive(r, m)
    header = (
        f"{'N':>6} {'ours (s)':>10} {'[core':>8} {'battery]':>9} {'naive (s)':>10} {'ratio':>8} "
        f"{'peak alloc (MB)':>16} {'max rel diff':>13}"
    )
    print(header)
    print("-" * len(header))
    rows = []
    for n in args.sizes:
        r, m = synthetic(n)
        t_ours, ours = best_time(lambda r=r, m=m: run_ours(r, m), args.repeat)
        t_core, _ = best_time(lambda r=r, m=m: run_ours(r, m, battery=False), args.repeat)
        reps = 1 if n >= 500 else min(3, args.repeat)
        t_naive, naive = best_time(lambda r=r, m=m: run_naive(r, m), reps)
        diff = check_agreement(ours, naive)
        tracemalloc.start()
        run_ours(r, m)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        rows.append((n, t_ours, t_naive, peak))
        print(
            f"{n:>6} {t_ours:>10.4f} {t_core:>8.4f} {t_ours - t_core:>9.4f} {t_naive:>10.3f} "
            f"{t_naive / t_ours:>7.1f}x {peak / 2**20:>16.1f} {diff:>13.1e}"
        )
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux
    print("-" * len(header))
    print(f"process peak RSS: {rss:.0f} MB (whole run, both implementations)")
    for n, t_ours, t_naive, peak in rows:
        if n == 500:
            print(
                f"target N=500 < 0.5 s: {'met' if t_ours < 0.5 else 'NOT met'} ({t_ours:.3f} s); "
                f"ratio >= 50x: {'met' if t_naive / t_ours >= 50 else 'NOT met'} "
                f"({t_naive / t_ours:.0f}x)"
            )
        if n == 2000:
            print(
                "target memory < 1 GB at N=2000: "
                f"{'met' if peak < 2**30 and rss < 1024 else 'NOT met'}"
            )
    sys.stdout.flush()


if __name__ == "__main__":
    main()
