"""tradeshock: event studies of market reactions to trade-policy shocks (2025 US tariffs).

Data flows one way, and so do imports (``docs/architecture.md``)::

    core, paths, errors  ->  data, events  ->  engine  ->  analyses  ->  pipeline  ->  cli

The calls that notebooks and users make are importable from here, and load on first use so that
``import tradeshock`` (and the ``tradeshock`` command) stay fast::

    from tradeshock import load_events, align, load_prices, wide_returns, event_study
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

#: Public name -> module that defines it (imported on first access, PEP 562).
_API: dict[str, str] = {
    # paths
    "PROJECT_ROOT": "tradeshock.paths",
    "DATA_DIR": "tradeshock.paths",
    # events
    "load_events": "tradeshock.events.calendar",
    "get_event": "tradeshock.events.calendar",
    "KEY_EVENTS": "tradeshock.events.calendar",
    "align": "tradeshock.events.align",
    "align_many": "tradeshock.events.align",
    "event_window": "tradeshock.events.align",
    "tariff_measures": "tradeshock.events.rates",
    # data
    "load_universe": "tradeshock.data.universe",
    "load_prices": "tradeshock.data.prices",
    "load_firms": "tradeshock.data.firms",
    "returns": "tradeshock.data.returns",
    "wide_returns": "tradeshock.data.returns",
    "price_levels": "tradeshock.data.returns",
    "validate_prices": "tradeshock.data.validate",
    # engine
    "event_study": "tradeshock.engine.study",
    "EventStudyResult": "tradeshock.engine.results",
    "event_dummy_regression": "tradeshock.engine.regression",
    "sur_event_regression": "tradeshock.engine.regression",
}

__all__ = ["__version__", *_API]


def __getattr__(name: str) -> Any:
    module = _API.get(name)
    if module is None:
        raise AttributeError(f"module 'tradeshock' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_API))


if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs only
    # ruff: noqa: F401
    from tradeshock.data.firms import load_firms
    from tradeshock.data.prices import load_prices
    from tradeshock.data.returns import price_levels, returns, wide_returns
    from tradeshock.data.universe import load_universe
    from tradeshock.data.validate import validate_prices
    from tradeshock.engine.regression import event_dummy_regression, sur_event_regression
    from tradeshock.engine.results import EventStudyResult
    from tradeshock.engine.study import event_study
    from tradeshock.events.align import align, align_many, event_window
    from tradeshock.events.calendar import KEY_EVENTS, get_event, load_events
    from tradeshock.events.rates import tariff_measures
    from tradeshock.paths import DATA_DIR, PROJECT_ROOT
