"""The market-data layer: universe, loading from every source, returns, validation, firms."""

from __future__ import annotations

import time
import warnings

import numpy as np
import pandas as pd
import pytest
from conftest import MINI_SNAPSHOT, SP500_CLOSES

from tradeshock.data import online, snapshot
from tradeshock.data.cache import CacheCorruptionWarning, PriceCache
from tradeshock.data.calendars import get_calendar
from tradeshock.data.firms import FIRM_OUTPUT_COLUMNS, load_constituents, load_firms, sp500_members
from tradeshock.data.prices import OUTPUT_COLUMNS, load_prices, source_summary
from tradeshock.data.returns import price_levels, returns, wide_returns
from tradeshock.data.universe import UnknownSymbolError, load_universe, lookup
from tradeshock.data.validate import validate_prices
from tradeshock.errors import DataError, DataUnavailableError

WINDOW = ("2025-04-02", "2025-04-09")


def closes(df: pd.DataFrame, symbol: str = "^GSPC") -> dict[str, float]:
    s = df[df["symbol"] == symbol]
    return dict(zip(s["date"].dt.strftime("%Y-%m-%d"), s["close"]))


# --------------------------------------------------------------------------- universe


def test_universe_metadata_is_complete_and_consistent():
    import exchange_calendars as xcals

    uni = load_universe()
    assert uni["symbol"].is_unique and len(uni) >= 80
    assert (uni.loc[uni["units"] == "percent", "measure"] == "bp_change").all()
    assert (uni.loc[uni["units"] != "percent", "measure"] == "simple_return").all()
    assert set(uni["online_source"]) == {"yahoo", "fred"}
    assert (uni["online_symbol"] != "").all()
    names = set(xcals.get_calendar_names())
    for col in ("exchange_calendar", "home_calendar"):
        assert set(uni[col]) - {""} <= names, col
    fx = uni[(uni["asset_class"] == "fx") & ~uni["symbol"].isin(["DTWEXBGS", "DX-Y.NYB"])]
    assert fx["quote"].str.contains(" per ").all()
    assert set(fx["rise_means"]) == {"USD stronger", "USD weaker"}
    assert lookup("DEXJPUS", uni).iloc[0]["quote"] == "JPY per USD"
    assert lookup("EURUSD=X", uni).iloc[0]["price_basis"] == "yahoo_fx_snapshot"


def test_universe_lists_every_series_of_the_shared_snapshot(shared_snapshot):
    theirs = pd.read_csv(shared_snapshot / "universe.csv", dtype=str, keep_default_na=False)
    ours = load_universe().set_index("symbol")
    assert set(theirs["symbol"]) <= set(ours.index)
    for r in theirs.itertuples():
        assert ours.loc[r.symbol, "units"] == r.units
        assert ours.loc[r.symbol, "exchange_calendar"] == r.exchange_calendar
        assert ours.loc[r.symbol, "snapshot_file"] == r.file


def test_unknown_symbol_lists_close_matches(no_snapshot_env):
    with pytest.raises(UnknownSymbolError) as err:
        load_prices(["GSPC", "SPY"], *WINDOW)
    assert "'GSPC'" in str(err.value) and "^GSPC" in str(err.value)
    with pytest.raises(UnknownSymbolError, match="EURUSD=X"):
        lookup("EURUSD")
    with pytest.raises(UnknownSymbolError, match="load_firms"):
        load_prices("AAPL")


# --------------------------------------------------------------------------- sources


def test_sp500_closes_from_the_shared_snapshot(shared_snapshot):
    df = load_prices("^GSPC", *WINDOW, source="snapshot", snapshot=shared_snapshot)
    assert closes(df) == pytest.approx(SP500_CLOSES)
    assert set(df["source"]) == {"snapshot"}
    assert df.attrs["sources"] == {"^GSPC": "snapshot"}
    assert df.attrs["as_of"] == pd.Timestamp("2025-04-09")


def test_sp500_closes_from_the_pinned_snapshot_offline(no_snapshot_env, network_down):
    df = load_prices("^GSPC", *WINDOW)  # auto: empty cache, no folder -> pinned
    assert closes(df) == pytest.approx(SP500_CLOSES)
    assert df.attrs["sources"] == {"^GSPC": "pinned"}
    assert network_down == {"yahoo": 0, "fred": 0}
    assert list(df.columns) == list(OUTPUT_COLUMNS)
    assert source_summary(df) == (
        "Market data: pinned snapshot (data/snapshot) (1 series); data as of 2025-04-09.")


def test_snapshot_from_the_environment_is_read_at_call_time(no_snapshot_env, monkeypatch):
    assert load_prices("^GSPC", *WINDOW).attrs["sources"]["^GSPC"] == "pinned"
    monkeypatch.setenv("TRADESHOCK_SNAPSHOT", str(MINI_SNAPSHOT))
    df = load_prices(["^GSPC", "DGS10"], *WINDOW)
    assert df.attrs["sources"] == {"^GSPC": "snapshot", "DGS10": "snapshot"}
    assert closes(df) == pytest.approx(SP500_CLOSES)


def test_snapshot_that_does_not_exist_is_an_error(no_snapshot_env, monkeypatch, tmp_path):
    monkeypatch.setenv("TRADESHOCK_SNAPSHOT", str(tmp_path / "nowhere"))
    with pytest.raises(DataError, match="TRADESHOCK_SNAPSHOT=.*is not a folder"):
        load_prices("^GSPC", *WINDOW)


def test_long_form_files_are_read(no_snapshot_env):
    df = load_prices(["EWJ", "EWY"], "2025-04-01", "2025-04-04", snapshot=MINI_SNAPSHOT)
    assert df.attrs["sources"] == {"EWJ": "snapshot", "EWY": "snapshot"}
    assert df.groupby("symbol")["close"].first().to_dict() == {"EWJ": 70.5, "EWY": 55.5}
    assert df["adj_close"].notna().all()


def test_every_series_of_the_shared_snapshot_loads_and_validates(shared_snapshot):
    theirs = pd.read_csv(shared_snapshot / "universe.csv", dtype=str, keep_default_na=False)
    df = load_prices(list(theirs["symbol"]), source="snapshot", snapshot=shared_snapshot)
    assert set(df["symbol"]) == set(theirs["symbol"])
    rows = df.groupby("symbol").size()
    assert (rows == theirs.set_index("symbol")["rows"].astype(int).reindex(rows.index)).all()
    problems = validate_prices(df)
    errors = problems[problems["severity"] == "error"]
    # the only errors in ~400,000 rows: WTI settled below zero on 20 April 2020 (real)
    assert set(zip(errors["symbol"], errors["date"].dt.strftime("%Y-%m-%d"), errors["problem"])) \
        == {("CL=F", "2020-04-20", "non_positive"), ("DCOILWTICO", "2020-04-20", "non_positive")}
    # the study period validates without errors
    recent = df[df["date"] >= "2023-10-01"]
    validate_prices(recent, on_problem="raise")


def test_every_pinned_series_loads_and_validates(no_snapshot_env):
    uni = load_universe()
    df = load_prices(list(uni["symbol"]), source="pinned")
    assert set(df["symbol"]) == set(uni["symbol"])
    problems = validate_prices(df, on_problem="raise")  # warnings only
    assert set(problems["severity"]) <= {"warning"}
    # known facts of the data, reported as warnings
    vix = problems[(problems["symbol"] == "^VIX")]
    assert set(vix["problem"]) == {"not_a_session"}  # Cboe values on some NYSE holidays


def test_loading_a_few_pinned_series_is_fast(no_snapshot_env):
    snapshot._MEMO.clear()
    snapshot._VERIFIED.clear()
    t0 = time.perf_counter()
    df = load_prices(["^GSPC", "SPY", "DGS10", "DEXJPUS", "^N225"], "2024-01-01", "2025-06-30")
    elapsed = time.perf_counter() - t0
    assert set(df.attrs["sources"].values()) == {"pinned"}
    assert elapsed < 0.5, f"loading 5 pinned series took {elapsed:.2f}s"


def test_auto_falls_through_when_pinned_does_not_reach_back(no_snapshot_env, network_down):
    with pytest.raises(DataUnavailableError) as err:
        load_prices("^GSPC", "2020-01-02", "2020-03-31")
    msg = str(err.value)
    assert "^GSPC" in msg and "2020-01-02 .. 2020-03-31" in msg
    assert "pinned only from 2023-10-02" in msg
    assert "cache" in msg and "snapshot" in msg and "yahoo" in msg
    assert "NetworkDown" in msg and "TRADESHOCK_SNAPSHOT" in msg
    # a series that starts later than the pinned period keeps its own start: served
    ewt = load_prices("EWT", "2023-10-01", "2024-12-31")
    assert ewt["date"].min() == pd.Timestamp("2024-06-20")


def test_explicit_source_restricts_to_that_source(no_snapshot_env, network_down):
    with pytest.raises(DataUnavailableError, match="not in the cache"):
        load_prices("^GSPC", *WINDOW, source="cache")
    with pytest.raises(DataUnavailableError, match="is a yahoo series, not fred"):
        load_prices("^GSPC", *WINDOW, source="fred")
    with pytest.raises(DataError, match="not one of"):
        load_prices("^GSPC", *WINDOW, source="web")


# --------------------------------------------------------------------------- online boundary


def _recorded_yahoo_frame(ticker: str) -> pd.DataFrame:
    """A frame shaped like yfinance.download(..., auto_adjust=False) output (hand-made)."""
    idx = pd.DatetimeIndex(["2025-04-02", "2025-04-03", "2025-04-04"], name="Date")
    cols = pd.MultiIndex.from_product(
        [["Adj Close", "Close", "High", "Low", "Open", "Volume"], [ticker]],
        names=["Price", "Ticker"])
    data = np.array([
        [5670.97, 5670.97, 5695.31, 5571.48, 5580.76, 3.3e9],
        [5396.52, 5396.52, 5499.53, 5390.83, 5492.74, 5.2e9],
        [5074.08, 5074.08, 5292.14, 5069.90, 5292.14, 7.0e9],
    ])
    return pd.DataFrame(data, index=idx, columns=cols)


def test_yahoo_download_is_parsed_cached_and_reused(no_snapshot_env, monkeypatch, network_down):
    import yfinance

    seen = {}

    def download(tickers, **kwargs):
        seen.update(kwargs, tickers=tickers)
        return _recorded_yahoo_frame(tickers)

    monkeypatch.setattr(yfinance, "download", download)
    df = load_prices("^GSPC", "2025-04-02", "2025-04-04", source="yahoo")
    assert closes(df) == pytest.approx({k: SP500_CLOSES[k] for k in list(SP500_CLOSES)[:3]})
    assert df.attrs["sources"] == {"^GSPC": "yahoo"}
    assert seen["tickers"] == "^GSPC" and seen["auto_adjust"] is False
    assert seen["end"] == "2025-04-05" and seen["timeout"] > 0  # yfinance's end is exclusive
    # written to the cache: the next auto load is served from it without the network
    monkeypatch.setattr(yfinance, "download", lambda *a, **k: pytest.fail("network used"))
    again = load_prices("^GSPC", "2025-04-02", "2025-04-04")
    assert again.attrs["sources"] == {"^GSPC": "cache"}
    pd.testing.assert_frame_equal(again.drop(columns="source"), df.drop(columns="source"))


def test_yahoo_flat_columns_and_tz_aware_index_are_accepted():
    raw = _recorded_yahoo_frame("^GSPC").droplevel("Ticker", axis=1)
    raw.index = raw.index.tz_localize("America/New_York")
    out = online._parse_yahoo(raw, "^GSPC")
    assert list(out["date"].dt.strftime("%Y-%m-%d")) == ["2025-04-02", "2025-04-03", "2025-04-04"]
    assert out["date"].dt.tz is None


def test_network_error_gives_the_clear_error(no_snapshot_env, network_down, monkeypatch,
                                             tmp_path):
    monkeypatch.setenv("TRADESHOCK_PINNED_DIR", str(tmp_path / "no-pinned"))
    with pytest.raises(DataUnavailableError) as err:
        load_prices(["^GSPC", "DGS10"], *WINDOW)
    msg = str(err.value)
    for needle in ("^GSPC", "DGS10", "2025-04-02 .. 2025-04-09", "cache", "snapshot", "pinned",
                   "yahoo", "fred", "NetworkDown", "after 2 attempt(s)", "tradeshock data fetch",
                   "TRADESHOCK_SNAPSHOT"):
        assert needle in msg, needle
    assert network_down == {"yahoo": 2, "fred": 2}  # retried


def test_yahoo_returning_nothing_is_an_error_too(no_snapshot_env, monkeypatch, network_down):
    import yfinance

    monkeypatch.setattr(yfinance, "download", lambda *a, **k: pd.DataFrame())
    with pytest.raises(DataUnavailableError, match="Yahoo returned no data for \\^GSPC"):
        load_prices("^GSPC", *WINDOW, source="yahoo")


def test_offline_switch_skips_the_network(no_snapshot_env, network_down, monkeypatch):
    monkeypatch.setenv("TRADESHOCK_OFFLINE", "1")
    with pytest.raises(DataUnavailableError, match="TRADESHOCK_OFFLINE"):
        load_prices("^GSPC", *WINDOW, source="yahoo")
    assert network_down["yahoo"] == 0


def test_fred_series_come_through_pandas_datareader(no_snapshot_env, monkeypatch, network_down):
    import pandas_datareader.fred

    class FredReader:
        def __init__(self, symbols, start, end, **kw):
            self.symbols, self.kw = symbols, kw

        def read(self):
            idx = pd.DatetimeIndex(["2025-04-02", "2025-04-03", "2025-04-04"], name="DATE")
            return pd.DataFrame({self.symbols: [4.20, np.nan, 4.01]}, index=idx)

        def close(self):
            pass

    monkeypatch.setattr(pandas_datareader.fred, "FredReader", FredReader)
    df = load_prices("DGS10", "2025-04-02", "2025-04-04", source="online")
    assert df.attrs["sources"] == {"DGS10": "fred"}
    assert list(df["close"]) == [4.20, 4.01]  # FRED's missing value dropped, not filled


# --------------------------------------------------------------------------- cache


def _cache_one(monkeypatch):
    import yfinance

    monkeypatch.setattr(yfinance, "download", lambda t, **k: _recorded_yahoo_frame(t))
    load_prices("^GSPC", "2025-04-02", "2025-04-04", source="yahoo")
    cache = PriceCache()
    assert cache.has("^GSPC")
    return cache


@pytest.mark.parametrize("damage", ["truncate", "flip", "index"])
def test_corrupted_cache_is_detected_removed_and_reloaded(no_snapshot_env, monkeypatch,
                                                          network_down, damage):
    cache = _cache_one(monkeypatch)
    pfile, mfile = cache._files("^GSPC")
    if damage == "truncate":
        pfile.write_bytes(pfile.read_bytes()[:100])
    elif damage == "flip":
        data = bytearray(pfile.read_bytes())
        data[len(data) // 2] ^= 0xFF
        pfile.write_bytes(bytes(data))
    else:
        mfile.write_text("{not json")
    with pytest.warns(CacheCorruptionWarning, match="corrupted"):
        df = load_prices("^GSPC", "2025-04-02", "2025-04-04")
    assert df.attrs["sources"] == {"^GSPC": "pinned"}  # the next source
    assert closes(df) == pytest.approx({k: SP500_CLOSES[k] for k in list(SP500_CLOSES)[:3]})
    assert not pfile.exists() and not mfile.exists()  # removed, never used


def test_corrupted_cache_is_refetched_when_online(no_snapshot_env, monkeypatch, network_down,
                                                  tmp_path):
    cache = _cache_one(monkeypatch)
    pfile, _ = cache._files("^GSPC")
    pfile.write_bytes(b"garbage")
    monkeypatch.setenv("TRADESHOCK_PINNED_DIR", str(tmp_path / "none"))
    with pytest.warns(CacheCorruptionWarning):
        df = load_prices("^GSPC", "2025-04-02", "2025-04-04")
    assert df.attrs["sources"] == {"^GSPC": "yahoo"}
    assert cache.read("^GSPC") is not None  # re-written, valid


def test_cache_writes_are_atomic_and_leave_no_temporary_files(monkeypatch, network_down):
    cache = _cache_one(monkeypatch)
    assert sorted(p.name for p in cache.path.iterdir()) == ["%5EGSPC.json", "%5EGSPC.parquet"]


# --------------------------------------------------------------------------- levels and returns


def test_returns_measures_and_own_calendars(no_snapshot_env):
    df = load_prices(["^GSPC", "DGS10", "^HSI", "SPY"], "2025-04-01", "2025-04-10")
    r = returns(df)
    assert set(r.columns) >= {"symbol", "date", "value", "measure", "prev_date"}
    meas = r.groupby("symbol")["measure"].first().to_dict()
    assert meas == {"^GSPC": "simple_return", "DGS10": "bp_change", "^HSI": "simple_return",
                    "SPY": "simple_return"}
    g = r[r["symbol"] == "^GSPC"].set_index("date")["value"]
    assert g["2025-04-03"] == pytest.approx(5396.52 / 5670.97 - 1)
    d = r[r["symbol"] == "DGS10"].set_index("date")["value"]
    assert d["2025-04-03"] == pytest.approx(-14.0)  # 4.20% -> 4.06%: -14 bp
    # Hong Kong was closed on 4 April 2025: the 7 April change is from 3 April, not filled
    h = r[r["symbol"] == "^HSI"].set_index("date")
    assert pd.Timestamp("2025-04-04") not in h.index
    assert h.loc["2025-04-07", "prev_date"] == pd.Timestamp("2025-04-03")
    assert h.loc["2025-04-07", "value"] == pytest.approx(19828.3 / 22849.81 - 1)
    w = wide_returns(df, kind="log")
    assert np.isnan(w.loc["2025-04-04", "^HSI"])
    assert w.loc["2025-04-03", "^GSPC"] == pytest.approx(np.log(5396.52 / 5670.97))
    assert w.loc["2025-04-03", "DGS10"] == pytest.approx(-14.0)  # still bp, never a return


def test_price_levels_use_adj_close_where_present(no_snapshot_env):
    df = load_prices(["SPY", "^GSPC", "EWJ"], "2025-04-01", "2025-04-10")
    lv = price_levels(df)
    assert lv.attrs["basis"] == {"SPY": "adj_close", "^GSPC": "close", "EWJ": "adj_close"}
    assert lv.loc["2025-04-02", "SPY"] == pytest.approx(562.8561)
    raw = price_levels(df, basis="close")
    assert raw["SPY"].isna().all()  # adjusted-only ETF: no quoted close, nothing invented
    assert lv.loc["2025-04-02", "EWJ"] != raw.loc["2025-04-02", "EWJ"]


# --------------------------------------------------------------------------- validation


def _frame(rows):
    df = pd.DataFrame(rows, columns=["symbol", "date", "close"])
    df["date"] = pd.to_datetime(df["date"])
    return df


def test_validation_finds_each_kind_of_problem():
    df = _frame([
        ("^GSPC", "2025-04-01", 5633.07),
        ("^GSPC", "2025-04-02", 5670.97),
        ("^GSPC", "2025-04-02", 5670.97),  # duplicate
        ("^GSPC", "2025-04-04", -1.0),  # 04-03 missing; non-positive
        ("^GSPC", "2025-04-05", 5074.08),  # Saturday: not a session
        ("^GSPC", "2025-05-01", 5000.0),  # out of range; sessions 04-07..04-30 missing
        ("DGS10", "2025-04-01", -0.5),  # negative yield allowed (percent)
        ("DGS10", "2025-04-02", "4.2%"),  # text
    ] + [("SPY", d, 500.0) for d in pd.bdate_range("2025-04-01", "2025-04-08").strftime("%F")])
    df["close"] = df["close"].astype(object)
    p = validate_prices(df, start="2025-04-01", end="2025-04-30")
    kinds = p.groupby(["symbol", "problem"]).size().to_dict()
    assert kinds[("^GSPC", "duplicate_date")] == 1
    assert kinds[("^GSPC", "non_positive")] == 1
    assert kinds[("^GSPC", "not_a_session")] == 1
    assert kinds[("^GSPC", "out_of_range")] == 1
    assert kinds[("^GSPC", "missing_session")] == 1 + 17  # 04-03 and 04-07..04-30 (Good Friday)
    assert kinds[("DGS10", "non_numeric")] == 1
    assert ("DGS10", "non_positive") not in kinds
    assert kinds[("SPY", "repeated_values")] == 1
    assert set(p.columns) == {"symbol", "date", "problem", "severity", "detail"}
    with pytest.raises(DataError, match="duplicate_date"):
        validate_prices(df, start="2025-04-01", end="2025-04-30", on_problem="raise")
    kept = validate_prices(df, start="2025-04-01", end="2025-04-30", on_problem="drop")
    assert len(kept) == len(df) - 5  # duplicate, negative, Saturday, May, text
    assert len(kept.attrs["problems"]) == len(p)
    validate_prices(kept, start="2025-04-01", end="2025-04-30", on_problem="raise")


def test_validation_calendars_do_not_depend_on_today():
    cal = get_calendar("XNYS")
    assert cal.first_session <= pd.Timestamp("1990-01-02")
    assert get_calendar("XTKS").first_session.year == 1997  # its earliest date


# --------------------------------------------------------------------------- firms


def test_firms_yahoo_daily_primary_iex_only_extends(no_snapshot_env):
    f = load_firms("2025-09-01", "2025-09-12", symbols=["AAPL", "ORLY"])
    assert set(f["source"]) == {"pinned"}
    assert list(f.columns) == list(FIRM_OUTPUT_COLUMNS)
    for _, g in f.groupby("symbol"):
        daily, iex = g[g["feed"] == "yahoo_daily"], g[g["feed"] == "iex"]
        assert daily["date"].max() == pd.Timestamp("2025-09-08")
        assert iex["date"].min() == pd.Timestamp("2025-09-09")
        assert iex["adj_close"].isna().all()
    lv = price_levels(f)
    assert lv.attrs["basis"]["AAPL"] == "adj_close, then close from 2025-09-09"
    assert lv["AAPL"].notna().all()
    # a full estimation window before Liberation Day
    win = load_firms("2024-01-01", "2025-04-02", symbols="AAPL")
    assert len(win) >= 250


def test_firms_drop_pre_listing_rows_and_fill_option(no_snapshot_env):
    sw = load_firms(symbols="SW")
    assert sw["date"].min() == pd.Timestamp("2024-07-08")
    only_iex = load_firms(symbols="ETN", iex="fill")
    assert set(only_iex["feed"]) == {"iex"}
    with pytest.raises(DataError, match="ETN is in the constituents file.*iex=.fill."):
        load_firms(symbols="ETN")
    with pytest.raises(DataError, match="AAPL"):
        load_firms(symbols="APPL")


def test_firms_and_constituents_from_a_snapshot_folder(no_snapshot_env):
    f = load_firms(snapshot=MINI_SNAPSHOT)
    assert set(f["symbol"]) == {"AAA", "BBB", "SW"}  # CCC is IEX-only
    assert f[f["symbol"] == "SW"]["date"].min() == pd.Timestamp("2024-07-08")
    assert f[f["feed"] == "iex"]["date"].min() == pd.Timestamp("2025-09-09")
    c = load_constituents(snapshot=MINI_SNAPSHOT)
    assert c["in_sp500_2025-04-01"].dtype == bool and c.attrs["source"] == "snapshot"


def test_constituents_from_the_pinned_snapshot(no_snapshot_env):
    c = load_constituents()
    assert {"symbol", "name", "gics_sector", "gics_sub_industry", "in_sp500_2025-04-01"} <= set(c)
    assert c["in_sp500_2025-04-01"].sum() == 503
    assert sp500_members()[:2] == ["A", "AAPL"]


def test_no_warnings_on_the_happy_path(no_snapshot_env):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        df = load_prices(["^GSPC", "SPY", "DGS10"], *WINDOW)
        returns(df)
        price_levels(df)


def test_source_summary_can_leave_the_date_to_the_caller(no_snapshot_env):
    df = load_prices("^GSPC", *WINDOW)
    assert source_summary(df, as_of=False) == (
        "Market data: pinned snapshot (data/snapshot) (1 series).")
