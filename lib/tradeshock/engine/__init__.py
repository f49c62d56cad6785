"""Engine: event studies and their statistics.

Job: from returns and day 0s to abnormal returns, CARs and tests. Modules: ``models`` (normal-return
models fitted for the whole cross-section at once), ``study`` (:func:`~tradeshock.engine.study.
event_study`: layout of event time, estimation, abnormal returns, exclusions), ``results``
(:class:`~tradeshock.engine.results.EventStudyResult`, tidy frames and ``summary()``),
``inference`` (the test battery: AAR per day, CAAR per window, per-security CAR tests, adjusted
p-values), ``groups`` (per-observation CAR t tests and the battery per group of observations of
one result) and ``regression`` (event-dummy regressions, SUR, Wald tests). Windows are read by
:mod:`tradeshock.core.windows`.

May import: :mod:`tradeshock.errors`, :mod:`tradeshock.paths`, :mod:`tradeshock.core`,
:mod:`tradeshock.data` and :mod:`tradeshock.events`. Never the analyses, the pipeline or the CLI.
"""
