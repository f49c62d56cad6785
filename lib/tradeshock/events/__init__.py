"""Events: the tariff event calendar, exchange-aware alignment (day 0, event time), tariff rates.

Job: turn the curated, sourced calendar into validated rows and place each announcement in each
market's sessions. Modules: ``schema`` (validation machinery), ``calendar`` (columns, vocabularies,
:func:`load_events`, :func:`get_event`), ``align`` (:func:`align`, :func:`event_window`, ...),
``rates`` (the 2 April reciprocal rates and :func:`tariff_measures`).

May import: :mod:`tradeshock.errors`, :mod:`tradeshock.paths`, :mod:`tradeshock.core` and
:mod:`tradeshock.data` (the exchange-calendar registry). Never the engine, analyses or pipeline.

The names below are the package's public API (``from tradeshock import events as ev; ev.align``).
"""

from __future__ import annotations

from tradeshock.events.align import *  # noqa: F401,F403
from tradeshock.events.align import __all__ as _align_all
from tradeshock.events.calendar import *  # noqa: F401,F403
from tradeshock.events.calendar import __all__ as _calendar_all
from tradeshock.events.rates import *  # noqa: F401,F403
from tradeshock.events.rates import __all__ as _rates_all

__all__ = [*_calendar_all, *_align_all, *_rates_all]
