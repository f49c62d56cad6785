"""Snapshot folders (strict CSV reading) and the pinned replication snapshot (issue 11)."""

from __future__ import annotations

import json
import shutil

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import MALFORMED, MINI_SNAPSHOT, PINNED, SP500_CLOSES

from tradeshock.data import snapshot
from tradeshock.data.foldercheck import validate_snapshot_folder
from tradeshock.data.pin import SIZE_BUDGET, pin
from tradeshock.data.prices import load_prices
from tradeshock.data.snapshot import PinnedSnapshot, SnapshotFolder, read_price_csv
from tradeshock.errors import DataError, PinnedSnapshotError, SnapshotFormatError

# --------------------------------------------------------------------------- snapshot folders


@pytest.mark.parametrize("name, line, what", [
    ("bad_date.csv", 4, "bad date '2025-04-31'"),
    ("text_in_price.csv", 3, "column close: 'n/a' is not a number"),
    ("duplicate_date.csv", 5, "duplicate date 2025-04-02 (first on line 3)"),
    ("extra_field.csv", 4, "Expected 7 fields in line 4, saw 8"),
])
def test_malformed_csv_error_names_file_and_line(name, line, what):
    with pytest.raises(SnapshotFormatError) as err:
        read_price_csv(MALFORMED / name)
    msg = str(err.value)
    assert name in msg and f"line {line}" in msg and what in msg


def test_malformed_series_in_a_snapshot_folder_stops_loading(mini_copy, no_snapshot_env):
    shutil.copy(MALFORMED / "text_in_price.csv", mini_copy / "GSPC.csv")
    with pytest.raises(SnapshotFormatError, match=r"GSPC\.csv.*\n.*line 3"):
        load_prices("^GSPC", snapshot=mini_copy)


def test_folder_without_universe_is_not_a_snapshot(tmp_path):
    with pytest.raises(DataError, match="not a snapshot folder: it has no universe.csv"):
        SnapshotFolder(tmp_path)


def test_long_file_is_filtered_by_symbol():
    both = read_price_csv(MINI_SNAPSHOT / "etf_long.csv")
    assert set(both["symbol"]) == {"EWJ", "EWY"} and len(both) == 10
    ewj = read_price_csv(MINI_SNAPSHOT / "etf_long.csv", symbol="EWJ")
    assert "symbol" not in ewj.columns and len(ewj) == 5
    assert list(ewj.columns) == ["date", "open", "high", "low", "close", "adj_close", "volume"]


def test_provenance_is_parsed():
    text = (MINI_SNAPSHOT / "PROVENANCE.md").read_text()
    per_file = snapshot.parse_provenance(text)
    assert per_file["GSPC.csv"]["repository"] == "example/prices"
    assert per_file["GSPC.csv"]["commit"].startswith("0123456789abcdef")
    assert per_file["GSPC.csv"]["upstream"] == "Yahoo Finance via yfinance."
    assert per_file["DGS10.csv"]["license"] == "ODC-PDDL-1.0"
    firms = snapshot.parse_firm_provenance(text)
    assert firms[snapshot.FIRMS_DAILY]["repository"] == "example/daily"
    assert firms[snapshot.FIRMS_DAILY]["upstream"] == \
        "Yahoo Finance through the yfinance Python package."
    assert firms[snapshot.FIRMS_IEX]["commits"] == ["aaaaaaaaaaaa", "bbbbbbbbbbbb"]
    assert firms[snapshot.CONSTITUENTS]["license"] == "ODC-PDDL-1.0"


# --------------------------------------------------------------------------- folder validation


def test_folder_report_of_a_good_folder(mini_copy):
    rep = validate_snapshot_folder(mini_copy, since="2025-04-02")
    assert rep.ok and rep.path == mini_copy
    assert rep.checked == ["DGS10", "EWJ", "EWY", "SPY", "^GSPC"]  # sorted
    assert rep.unlisted == rep.absent == rep.empty == [] and rep.unreadable == {}
    assert rep.last["^GSPC"] == pd.Timestamp("2025-04-10")
    assert rep.series["^GSPC"]["date"].min() == pd.Timestamp("2025-04-02")  # cut at since
    assert rep.spans["^GSPC"] == (pd.Timestamp("2025-03-31"), 9)  # the whole file
    assert set(rep.problems["severity"]) <= {"warning"}
    rep.raise_for_errors("nothing was done")  # no error: returns


def test_folder_report_collects_every_unreadable_file_and_error(mini_copy):
    shutil.copy(MALFORMED / "bad_date.csv", mini_copy / "GSPC.csv")
    shutil.copy(MALFORMED / "text_in_price.csv", mini_copy / "DGS10.csv")
    (mini_copy / "SPY.csv").unlink()
    rep = validate_snapshot_folder(mini_copy, ["^GSPC", "DGS10", "SPY", "EWJ", "NOPE"])
    assert not rep.ok and rep.absent == ["NOPE"] and list(rep.series) == ["EWJ"]
    assert set(rep.unreadable) == {"^GSPC", "DGS10", "SPY"}
    assert isinstance(rep.unreadable["^GSPC"], SnapshotFormatError)
    with pytest.raises(DataError) as err:
        rep.raise_for_errors("nothing was written")
    msg = str(err.value)
    assert "3 series files of snapshot folder" in msg and "nothing was written" in msg
    assert "GSPC.csv" in msg and "line 4" in msg and "DGS10.csv" in msg and "line 3" in msg
    assert "lists SPY but" in msg and "SPY.csv does not exist" in msg
    # read=False: only universe.csv and the files' presence, nothing parsed
    quick = validate_snapshot_folder(mini_copy, read=False)
    assert set(quick.unreadable) == {"SPY"} and quick.series == {}


def test_folder_report_raises_validation_errors_with_the_callers_words(mini_copy):
    (mini_copy / "SPY.csv").write_text(
        "date,open,high,low,close,adj_close,volume\n2025-04-01,,,,,-5,\n2025-04-02,,,,,500,\n")
    rep = validate_snapshot_folder(mini_copy)
    assert list(rep.errors["problem"]) == ["non_positive"]
    with pytest.raises(DataError, match=r"fail validation \(1 error\(s\)\); nothing was rendered:"
                                        r"\n  SPY 2025-04-01: non_positive.*\nFix it"):
        rep.raise_for_errors("nothing was rendered", "Fix it.")


def test_folder_series_outside_the_universe_are_skipped_or_included(mini_copy):
    uni = (mini_copy / "universe.csv").read_text()
    (mini_copy / "universe.csv").write_text(uni + uni.splitlines()[1].replace("^GSPC", "XTRA", 1)
                                            + "\n")
    skipped = validate_snapshot_folder(mini_copy)
    assert skipped.unlisted == ["XTRA"] and "XTRA" not in skipped.series
    included = validate_snapshot_folder(mini_copy, include_unlisted=True)
    assert "XTRA" in included.series and "XTRA" in set(included.universe["symbol"])


# --------------------------------------------------------------------------- pin


def _read(path):
    return pq.read_table(path).to_pandas()


def test_pin_writes_the_files_and_is_idempotent(mini_copy, tmp_path):
    out = tmp_path / "pinned"
    res = pin(mini_copy, out_dir=out, since="2025-04-01")
    assert res.changes == ["new pinned snapshot: 5 series, as of 2025-09-10"]
    assert sorted(p.name for p in out.iterdir()) == sorted([
        "series.parquet", "firms_daily.parquet", "firms_iex.parquet", "constituents.parquet",
        "manifest.json", "SOURCES.md"])
    m = json.loads((out / "manifest.json").read_text())
    g = m["series"]["^GSPC"]
    assert (g["first"], g["last"], g["rows"], g["truncated"]) == ("2025-04-01", "2025-04-10", 8,
                                                                   True)
    assert g["source"]["repository"] == "example/prices" and g["calendar"] == "XNYS"
    assert m["series"]["SPY"]["columns"] == ["adj_close", "volume"]
    assert m["since"] == "2025-04-01" and m["as_of"] == "2025-09-10"
    assert not any(p.suffix == ".csv" for p in out.iterdir())
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    mtimes = {p.name: p.stat().st_mtime_ns for p in out.iterdir()}
    again = pin(mini_copy, out_dir=out, since="2025-04-01")
    assert again.written == [] and again.changes == []
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert {p.name: p.stat().st_mtime_ns for p in out.iterdir()} == mtimes
    # loading from it
    df = load_prices("^GSPC", "2025-04-02", "2025-04-09", source="pinned", pinned=out)
    assert dict(zip(df["date"].dt.strftime("%Y-%m-%d"), df["close"])) == pytest.approx(
        SP500_CLOSES)


def test_pin_reports_added_removed_extended(mini_copy, tmp_path):
    out = tmp_path / "pinned"
    pin(mini_copy, out_dir=out)
    with open(mini_copy / "GSPC.csv", "a") as fh:
        fh.write("2025-04-11,,,,5363.36,,\n")
    uni = (mini_copy / "universe.csv").read_text().splitlines()
    (mini_copy / "universe.csv").write_text(
        "\n".join(line for line in uni if not line.startswith("EWY,")) + "\n")
    res = pin(mini_copy, out_dir=out)
    assert "removed: EWY" in res.changes
    assert any(c.startswith("extended: ^GSPC 2025-04-10 -> 2025-04-11 (+1 rows)")
               for c in res.changes)


def test_pin_refuses_invalid_data(mini_copy, tmp_path):
    (mini_copy / "SPY.csv").write_text(
        "date,open,high,low,close,adj_close,volume\n2025-04-01,,,,,-5,\n2025-04-02,,,,,500,\n")
    with pytest.raises(DataError, match="fail validation.*\n.*SPY 2025-04-01: non_positive"):
        pin(mini_copy, out_dir=tmp_path / "pinned")
    assert not (tmp_path / "pinned").exists()


def test_pin_reproduces_the_committed_snapshot(shared_snapshot, tmp_path):
    committed = json.loads((PINNED / "manifest.json").read_text())
    res = pin(shared_snapshot, out_dir=tmp_path / "pinned", since=committed["since"])
    new = res.manifest
    for name in committed["files"]:
        pd.testing.assert_frame_equal(_read(tmp_path / "pinned" / name), _read(PINNED / name),
                                      check_exact=True, obj=name)
    assert new["series"] == committed["series"]
    assert new["firms"] == committed["firms"]
    assert {k: new[k] for k in ("format", "since", "as_of", "input")} == \
        {k: committed[k] for k in ("format", "since", "as_of", "input")}
    if new["writer"] == committed["writer"]:  # same parquet writer: the same bytes
        assert new["files"] == committed["files"]
        assert (tmp_path / "pinned" / "SOURCES.md").read_text() == \
            (PINNED / "SOURCES.md").read_text()


# --------------------------------------------------------------------------- pinned integrity


def test_committed_pinned_snapshot_is_intact_and_small():
    ps = PinnedSnapshot(PINNED)
    ps.verify(force=True)
    m = ps.manifest
    total = sum(p.stat().st_size for p in PINNED.iterdir())
    assert total < SIZE_BUDGET
    assert not list(PINNED.glob("*.csv"))  # no raw CSV copies
    assert m["since"] == "2023-10-01"
    for sym, info in m["series"].items():
        assert info["first"] >= "2023-10-01", sym
        assert info["source"].get("repository") and info["source"].get("commit"), sym
        assert info["units"] and info["price_basis"], sym
    daily = m["firms"]["firms_daily.parquet"]
    assert (daily["first"], daily["last"]) == ("2023-10-02", "2025-09-08")
    assert daily["source"]["repository"] == "Negin228/Stockhome"


def test_sources_md_states_the_caveats():
    text = (PINNED / "SOURCES.md").read_text()
    for needle in ("lag a day", "DEXJPUS", "IEX member file = last trades, unadjusted",
                   "Hong Kong (XHKG): Fri 4 Apr", "mainland China (Shanghai) (XSHG): Fri 4 Apr",
                   "Taiwan (XTAI): Thu 3 Apr, Fri 4 Apr", "use `adj_close`",
                   "upstream providers' terms apply", "SW"):
        assert needle in text, needle


@pytest.mark.parametrize("damage", ["truncate", "modify", "delete"])
def test_corrupted_pinned_file_gives_a_clear_error(pinned_copy, no_snapshot_env, monkeypatch,
                                                   network_down, damage):
    f = pinned_copy / "series.parquet"
    if damage == "truncate":
        f.write_bytes(f.read_bytes()[: f.stat().st_size // 2])
    elif damage == "modify":
        df = _read(f)
        df.loc[df["close"] == 5670.97, "close"] = 5671.0
        pq.write_table(pa.Table.from_pandas(df, preserve_index=False), f)
    else:
        f.unlink()
    monkeypatch.setenv("TRADESHOCK_PINNED_DIR", str(pinned_copy))
    with pytest.raises(PinnedSnapshotError) as err:
        load_prices("^GSPC", "2025-04-02", "2025-04-09")
    msg = str(err.value)
    assert "series.parquet" in msg
    assert "git checkout data/snapshot" in msg and "tradeshock data pin" in msg
    assert network_down == {"yahoo": 0, "fred": 0}  # never silently replaced


def test_pinned_file_is_checked_once_per_process(pinned_copy, monkeypatch):
    calls = []
    real = snapshot.sha256_file
    monkeypatch.setattr(snapshot, "sha256_file", lambda p: calls.append(p) or real(p))
    ps = PinnedSnapshot(pinned_copy)
    ps.series("^GSPC")
    ps.series("SPY")
    PinnedSnapshot(pinned_copy).series("DGS10")
    assert len(calls) == 1
    with open(pinned_copy / "series.parquet", "ab") as fh:  # changed later: checked again
        fh.write(b"x")
    with pytest.raises(PinnedSnapshotError, match="modified or truncated"):
        ps.series("^GSPC")


def test_damaged_manifest_is_reported(pinned_copy):
    (pinned_copy / "manifest.json").write_text("{")
    with pytest.raises(PinnedSnapshotError, match="manifest.json is damaged.*git checkout"):
        PinnedSnapshot(pinned_copy).series("^GSPC")
