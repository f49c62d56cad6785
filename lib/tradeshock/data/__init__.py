"""Market data: which series exist, where their prices come from, and whether they are right.

Job: serve clean daily prices, offline first, and say where they came from. Modules, one job each:

* ``universe``: the series of ``data/universe.csv`` (metadata, symbol lookup with close matches);
* ``calendars``: the exchange-calendar registry (:func:`~tradeshock.data.calendars.get_calendar`,
  one start for the whole package);
* ``prices``: :func:`~tradeshock.data.prices.load_prices` and its source chain (cache → snapshot
  folder → pinned snapshot → online), ``source_summary``;
* ``online``: Yahoo and FRED downloads with timeout and retries, ``TRADESHOCK_OFFLINE``;
* ``firms``: S&P 500 member prices and constituents;
* ``returns``: price levels, returns and basis-point changes;
* ``validate``: :func:`~tradeshock.data.validate.validate_prices` against exchange calendars;
* ``status``: what each offline source holds (``tradeshock data status``);
* ``cache``: the local parquet cache;
* ``snapshot``: reading snapshot folders (strict CSV) and the pinned snapshot (integrity-checked);
* ``foldercheck``: validating a whole snapshot folder into one report (import, pin, refresh,
  doctor);
* ``pin``: building the pinned snapshot ``data/snapshot`` and its ``SOURCES.md``; ``pindest``:
  which folders it may replace.

May import: :mod:`tradeshock.errors`, :mod:`tradeshock.paths`, :mod:`tradeshock.core` and modules
of this package only (never events, engine, analyses, pipeline or cli), at module level: no import
inside a function to dodge a cycle.
"""
