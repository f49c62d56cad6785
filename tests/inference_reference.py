"""A slow, plain reference implementation of tradeshock's test battery, for tests only.

Written security by security and day by day with Python loops and small 1-D computations, from
the formulas in the docstrings of ``tradeshock.inference`` (not from its code), so that the fast
array version can be checked against it on data with missing values. Ranks are computed here by a
hand-written average-rank routine and the cross-correlation by pandas' pairwise ``corr``.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats


def _fin(v) -> bool:
    return v is not None and math.isfinite(v)


def avg_ranks(values: list[float]) -> list[float]:
    """Ranks 1..n of ``values`` (no NaN), ties sharing their mean rank."""
    order = sorted(range(len(values)), key=lambda j: values[j])
    ranks = [0.0] * len(values)
    pos = 0
    while pos < len(order):
        end = pos
        while end + 1 < len(order) and values[order[end + 1]] == values[order[pos]]:
            end += 1
        r = (pos + 1 + end + 1) / 2.0
        for j in range(pos, end + 1):
            ranks[order[j]] = r
        pos = end + 1
    return ranks


def ranks_with_nan(col: list[float]) -> list[float]:
    idx = [j for j, v in enumerate(col) if _fin(v)]
    r = avg_ranks([col[j] for j in idx])
    out = [math.nan] * len(col)
    for j, rr in zip(idx, r, strict=True):
        out[j] = rr
    return out


def mean(v):
    return sum(v) / len(v) if v else math.nan


def sd(v):
    if len(v) < 2:
        return math.nan
    m = mean(v)
    return math.sqrt(sum((x - m) ** 2 for x in v) / (len(v) - 1))


def p_norm(z):
    return 2 * stats.norm.sf(abs(z)) if _fin(z) else math.nan


def p_t(t, df):
    return 2 * stats.t.sf(abs(t), df) if _fin(t) and df > 0 else math.nan


class Reference:
    """Per-security quantities and the tests, computed the slow way."""

    def __init__(self, data):
        self.E = np.asarray(data.ar_est, dtype=float)
        self.A = np.asarray(data.ar_event, dtype=float)
        self.days = np.asarray(data.days)
        self.k = [int(v) for v in data.n_params]
        self.xe = None if data.x_est is None else np.asarray(data.x_est, dtype=float)
        self.xv = None if data.x_event is None else np.asarray(data.x_event, dtype=float)
        self.L1, self.N = self.E.shape
        self.L2 = self.A.shape[0]
        self.est = [
            [self.E[t, i] for t in range(self.L1) if _fin(self.E[t, i])] for i in range(self.N)
        ]
        self.T = [len(v) for v in self.est]
        self.var = [sd(v) ** 2 if len(v) >= 2 else math.nan for v in self.est]
        self.s = [math.sqrt(v) if _fin(v) and v > 0 else math.nan for v in self.var]
        self.pv = []
        for i in range(self.N):
            dof = self.T[i] - self.k[i]
            self.pv.append(dof / (dof - 2) if dof > 2 else math.nan)
        self.ok = [_fin(self.s[i]) and _fin(self.pv[i]) for i in range(self.N)]
        self.inv = []
        for i in range(self.N):
            if self.xe is None:
                self.inv.append(None)
                continue
            kk = self.xe.shape[2]
            xtx = np.zeros((kk, kk))
            for t in range(self.L1):
                row = self.xe[t, i]
                if _fin(self.E[t, i]) and np.all(np.isfinite(row)):
                    xtx += np.outer(row, row)
            self.inv.append(np.linalg.pinv(xtx))

    # ---- building blocks -----------------------------------------------------------------
    def quad(self, i, x):
        return float(x @ self.inv[i] @ x)

    def c(self, t, i):
        if self.xv is not None:
            x = self.xv[t, i]
            if not np.all(np.isfinite(x)):
                return math.nan
            return 1.0 + self.quad(i, x)
        if self.k[i] == 1:
            return 1.0 + 1.0 / self.T[i] if self.T[i] > 0 else math.nan
        return 1.0

    def sar(self, t, i):
        a = self.A[t, i]
        if not (_fin(a) and self.ok[i]):
            return math.nan
        c = self.c(t, i)
        return a / (self.s[i] * math.sqrt(c)) if _fin(c) else math.nan

    def present(self, t):
        return [i for i in range(self.N) if _fin(self.A[t, i])]

    def s85(self):
        aars = []
        for t in range(self.L1):
            v = [self.E[t, i] for i in range(self.N) if _fin(self.E[t, i])]
            if v:
                aars.append(mean(v))
        return sd(aars), len(aars) - 1

    def rbar(self):
        cols = [i for i in range(self.N) if self.ok[i]]
        df = pd.DataFrame(self.E[:, cols])
        c = df.corr(min_periods=3).to_numpy()
        vals = [
            c[a, b] for a in range(len(cols)) for b in range(len(cols)) if a != b and _fin(c[a, b])
        ]
        return mean(vals)

    def p_hat(self):
        shares = [
            sum(1 for v in self.est[i] if v > 0) / self.T[i] for i in range(self.N) if self.T[i] > 0
        ]
        return mean(shares)

    # ---- daily tests ---------------------------------------------------------------------
    def daily(self):
        out = {}
        L1, L2, N = self.L1, self.L2, self.N
        tmean = mean([T for T in self.T if T > 0])
        s85, dof85 = self.s85()
        rbar = self.rbar()
        ph = self.p_hat()
        for name in (
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
        ):
            out[name] = []
        # rank-based quantities over estimation + event rows
        F = np.vstack([self.E, self.A])
        secs = [i for i in range(N) if any(_fin(F[t, i]) for t in range(L1 + L2))]
        Kcols, Gcols, Mi = {}, {}, {}
        for i in secs:
            col = [F[t, i] for t in range(L1 + L2)]
            vals = [v for v in col if _fin(v)]
            med = float(np.median(vals))
            Kcols[i] = ranks_with_nan(col)
            Gcols[i] = [
                (0.0 if v == med else (1.0 if v > med else -1.0)) if _fin(v) else math.nan
                for v in col
            ]
            Mi[i] = len(vals)
        tbar = mean([Mi[i] for i in secs])
        avgK = {i: mean([k for k in Kcols[i] if _fin(k)]) for i in secs}
        D, Du, Gs = [], [], []
        for t in range(L1 + L2):
            have = [i for i in secs if _fin(F[t, i])]
            n_t = len(have)
            D.append(mean([Kcols[i][t] - avgK[i] for i in have]) if n_t else 0.0)
            Du.append(
                sum(Kcols[i][t] / (Mi[i] + 1) - 0.5 for i in have) / math.sqrt(n_t) if n_t else 0.0
            )
            Gs.append(sum(Gcols[i][t] for i in have) / math.sqrt(n_t) if n_t else 0.0)
        SK = math.sqrt(sum(d * d for d in D) / tbar)
        SU = math.sqrt(sum(d * d for d in Du) / tbar)
        SG = math.sqrt(sum(g * g for g in Gs) / tbar)

        for t in range(L2):
            pres = self.present(t)
            a = [self.A[t, i] for i in pres]
            # Brown-Warner 1980
            use = [i for i in pres if _fin(self.var[i])]
            if use:
                st = mean([self.A[t, i] for i in use]) / (
                    math.sqrt(sum(self.var[i] for i in use)) / len(use)
                )
            else:
                st = math.nan
            out["brown_warner_1980"].append((st, p_t(st, tmean - 1), len(use)))
            # Brown-Warner 1985
            st = mean(a) / s85 if a else math.nan
            out["brown_warner_1985"].append((st, p_t(st, dof85), len(pres)))
            # t test
            st = mean(a) / (sd(a) / math.sqrt(len(a))) if len(a) > 1 and sd(a) > 0 else math.nan
            out["t_test"].append((st, p_t(st, len(a) - 1), len(a)))
            # Patell, BMP, Kolari-Pynnonen
            z = [(self.sar(t, i), i) for i in pres]
            z = [(v, i) for v, i in z if _fin(v)]
            zs = [v for v, _ in z]
            st = sum(zs) / math.sqrt(sum(self.pv[i] for _, i in z)) if z else math.nan
            out["patell"].append((st, p_norm(st), len(z)))
            bmp = mean(zs) / (sd(zs) / math.sqrt(len(zs))) if len(zs) > 1 else math.nan
            out["boehmer"].append((bmp, p_t(bmp, len(zs) - 1), len(zs)))
            n = len(zs)
            kp = bmp * math.sqrt((1 - rbar) / (1 + (n - 1) * rbar)) if n > 1 else math.nan
            out["kolari_pynnonen"].append((kp, p_t(kp, n - 1), n))
            # Lamb
            use = [i for i in pres if _fin(self.c(t, i))]
            if use:
                cbar = mean([self.c(t, i) for i in use])
                st = mean([self.A[t, i] for i in use]) / (s85 * math.sqrt(cbar))
            else:
                st = math.nan
            out["lamb"].append((st, p_norm(st), len(use)))
            # sign, generalized sign
            n = len(a)
            w = sum(1 for v in a if v > 0)
            st = (w - n / 2) / math.sqrt(n / 4) if n else math.nan
            out["sign"].append((st, p_norm(st), n))
            st = (w - n * ph) / math.sqrt(n * ph * (1 - ph)) if n else math.nan
            out["generalized_sign"].append((st, p_norm(st), n))
            # Corrado-Zivney sign, rank, modified rank (row L1 + t of the full matrix)
            r = L1 + t
            have = [i for i in secs if _fin(F[r, i])]
            ok = bool(have)
            st = Gs[r] / SG if ok else math.nan
            out["corrado_sign"].append((st, p_norm(st), len(have)))
            st = D[r] / SK if ok else math.nan
            out["rank"].append((st, p_norm(st), len(have)))
            st = Du[r] / SU if ok else math.nan
            out["modified_rank"].append((st, p_norm(st), len(have)))
            # Wilcoxon
            out["wilcoxon"].append(self.wilcoxon(a))
        return out

    @staticmethod
    def wilcoxon(values):
        nz = [v for v in values if v != 0]
        if not nz:
            return (math.nan, math.nan, 0)
        r = avg_ranks([abs(v) for v in nz])
        W = sum(rr for rr, v in zip(r, nz, strict=True) if v > 0)
        pv = stats.wilcoxon(np.array(nz), zero_method="wilcox", method="auto").pvalue
        return (W, pv, len(nz))

    # ---- CAR tests -----------------------------------------------------------------------
    def car(self, start, end, n_boot=200, seed=0):
        rows = [t for t in range(self.L2) if start <= self.days[t] <= end]
        car, L, q = {}, {}, {}
        for i in range(self.N):
            pres = [t for t in rows if _fin(self.A[t, i])]
            if not pres:
                continue
            car[i] = sum(self.A[t, i] for t in pres)
            L[i] = len(pres)
            if self.xv is not None:
                xs = np.zeros(self.xv.shape[2])
                bad = False
                for t in pres:
                    if not np.all(np.isfinite(self.xv[t, i])):
                        bad = True
                    else:
                        xs += self.xv[t, i]
                q[i] = math.nan if bad else self.quad(i, xs)
            elif self.k[i] == 1:
                q[i] = L[i] ** 2 / self.T[i] if self.T[i] > 0 else math.nan
            else:
                q[i] = 0.0
        secs = sorted(car)
        cars = [car[i] for i in secs]
        out = {"caar": mean(cars)}
        daily = self.daily()
        s85, dof85 = self.s85()
        # Brown-Warner 1985 and Lamb
        aars = []
        for t in rows:
            v = [self.A[t, i] for i in range(self.N) if _fin(self.A[t, i])]
            if v:
                aars.append(mean(v))
        st = sum(aars) / (s85 * math.sqrt(len(aars))) if aars else math.nan
        out["brown_warner_1985"] = (st, p_t(st, dof85), len(secs))
        lam = [daily["lamb"][t][0] for t in rows if _fin(daily["lamb"][t][0])]
        st = sum(lam) / math.sqrt(len(lam)) if lam else math.nan
        out["lamb"] = (st, p_norm(st), len(secs))
        # t test
        n = len(cars)
        st = mean(cars) / (sd(cars) / math.sqrt(n)) if n > 1 else math.nan
        out["t_test"] = (st, p_t(st, n - 1), n)
        # standardized CARs
        scar = {}
        for i in secs:
            if self.ok[i] and _fin(q[i]):
                scar[i] = car[i] / (self.s[i] * math.sqrt(L[i] + q[i]))
        zs = [scar[i] for i in sorted(scar)]
        n = len(zs)
        st = sum(zs) / math.sqrt(sum(self.pv[i] for i in scar)) if n else math.nan
        out["patell"] = (st, p_norm(st), n)
        bmp = mean(zs) / (sd(zs) / math.sqrt(n)) if n > 1 else math.nan
        out["boehmer"] = (bmp, p_t(bmp, n - 1), n)
        rbar = self.rbar()
        kp = bmp * math.sqrt((1 - rbar) / (1 + (n - 1) * rbar)) if n > 1 else math.nan
        out["kolari_pynnonen"] = (kp, p_t(kp, n - 1), n)
        # rank (estudy2's car_rank_test): estimation rows + window rows
        F = [[self.E[t, i] for i in range(self.N)] for t in range(self.L1)]
        F += [[self.A[t, i] for i in range(self.N)] for t in rows]
        allsec = [i for i in range(self.N) if any(_fin(F[t][i]) for t in range(len(F)))]
        K = {i: ranks_with_nan([F[t][i] for t in range(len(F))]) for i in allsec}
        Mi = {i: sum(1 for t in range(len(F)) if _fin(F[t][i])) for i in allsec}
        kbar = mean([mean([k for k in K[i] if _fin(k)]) for i in allsec])
        dev2 = 0.0
        for t in range(len(F)):
            v = [K[i][t] for i in allsec if _fin(K[i][t])]
            if v:
                dev2 += (mean(v) - kbar) ** 2
        SK = math.sqrt(dev2 / mean([Mi[i] for i in allsec]))
        wcells = [K[i][t] for t in range(self.L1, len(F)) for i in allsec if _fin(K[i][t])]
        Lw = sum(1 for t in range(self.L1, len(F)) if any(_fin(K[i][t]) for i in allsec))
        st = math.sqrt(Lw) * (mean(wcells) - kbar) / SK
        out["rank"] = (st, p_norm(st), len(secs))
        # GRANK
        if n > 1:
            S = sd(zs)
            gs = sorted(scar)
            U = {}
            for i in gs:
                col = [
                    self.E[t, i] / self.s[i] if _fin(self.E[t, i]) else math.nan
                    for t in range(self.L1)
                ]
                col.append(scar[i] / S)
                r = ranks_with_nan(col)
                m = sum(1 for v in col if _fin(v))
                U[i] = [rr / (m + 1) - 0.5 if _fin(rr) else math.nan for rr in r]
            T = 0
            acc = 0.0
            ubar0 = math.nan
            for t in range(self.L1 + 1):
                v = [U[i][t] for i in gs if _fin(U[i][t])]
                if not v:
                    continue
                T += 1
                ub = mean(v)
                acc += len(v) / len(gs) * ub * ub
                if t == self.L1:
                    ubar0 = ub
            Z = ubar0 / math.sqrt(acc / T)
            st = Z * math.sqrt((T - 2) / (T - 1 - Z * Z))
            out["grank"] = (st, p_t(st, T - 2), n)
        else:
            out["grank"] = (math.nan, math.nan, n)
        # signs, Wilcoxon
        n = len(cars)
        w = sum(1 for v in cars if v > 0)
        ph = self.p_hat()
        st = (w - n * ph) / math.sqrt(n * ph * (1 - ph))
        out["generalized_sign"] = (st, p_norm(st), n)
        st = (w - n / 2) / math.sqrt(n / 4)
        out["sign"] = (st, p_norm(st), n)
        out["wilcoxon"] = self.wilcoxon(cars)
        # bootstrap (same generator and draw layout as documented)
        rng = np.random.default_rng(seed)
        arr = np.array(cars)
        idx = rng.integers(0, n, size=(n_boot, n))
        means = [float(np.mean(arr[row])) for row in idx]
        m = mean(cars)
        sdb = sd(means)
        st = m / sdb
        pv = (1 + sum(1 for b in means if abs(b - m) >= abs(m))) / (n_boot + 1)
        lo, hi = np.percentile(means, [2.5, 97.5])
        out["bootstrap"] = (st, pv, n, lo, hi)
        return out
