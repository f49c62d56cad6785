"""Analyses: what the notebooks compute and say, one module per question, over the engine.

Modules: ``sectors`` (sector ETFs and S&P 500 members), ``crosssection`` (CAR against tariff
measures across countries), ``crossasset`` (cross-asset moves, correlations, recovery),
``anatomy`` (drawdowns, troughs and AR/CAR paths), ``global_markets`` (national indices and
country ETFs around a shock and its rebound), ``labels`` (scatter labels that do not overlap),
``figures`` (house style of every figure), the whole-calendar study (``sessions``,
``calendar_study``, ``firm_panel``, ``taco``, ``calendar_text``, and ``tariff_calendar`` for
notebook 07),
``contract`` (what each notebook parameter must be, checked before any work). Each analysis also
writes its "What the data say" narrative from its results, so the notebook only shows it.

May import: errors, paths, core, data, events and engine. Never pipeline or cli (the notebooks
import both analyses and pipeline).
"""
