"""Analyses: what the notebooks compute and say, one module per question, over the engine.

Modules, one per notebook: ``timeline`` (01), ``us_indices`` (02), ``sectors`` (03: sector ETFs
and S&P 500 members), ``global_markets`` (04), ``selloff`` (05), ``summary`` (06),
``tariff_calendar`` (07), ``country`` (the country report); beside them ``crosssection``
(CAR against tariff measures across countries), ``crossasset`` (cross-asset moves, correlations,
recovery), ``anatomy`` (drawdowns, troughs and AR/CAR paths), ``labels`` (scatter labels that do
not overlap), ``timing`` (an announcement's timing in words), ``overlap`` (studied events that
share a day 0), ``figures`` (house style of every figure), the whole-calendar study (``sessions``,
``calendar_study``, ``firm_panel``, ``taco``, ``calendar_text``), ``contract`` (what each
notebook parameter must be, checked before any work). Each analysis also
writes its "What the data say" narrative from its results, so the notebook only shows it.

May import: errors, paths, core, data, events and engine. Never pipeline or cli (the notebooks
import both analyses and pipeline).
"""
