"""The report pipeline: from parameterized notebooks to an index of shareable HTML reports.

Inside a notebook: :mod:`~.provenance` (``record`` the data used, ``is_rendering``, ``attach``
a file) and :mod:`~.checks` (validate parameter values on entry). Around it: :mod:`~.params`
(read a notebook's declared parameters, coerce command-line text), :mod:`~.naming` (safe report
names and paths), :mod:`~.fingerprint` (what a report depends on), :mod:`~.lock` (one writer per
output folder), :mod:`~.outdir` (which folders a render may write into), :mod:`~.tasks` (execute
one notebook with papermill), :mod:`~.export` (self-contained HTML), :mod:`~.executors` (the
registry of :mod:`~.process_executor` and :mod:`~.dask_executor`), :mod:`~.render` (the
orchestration: validate, skip what is up to date, execute, commit atomically),
:mod:`~.reportindex` (``index.html`` and ``manifest.json``; :mod:`~.outputs` holds the statuses and
file names both share; :mod:`~.manifestcheck` reports and rebuilds an unreadable manifest),
:mod:`~.sweep` (one report per parameter value), :mod:`~.bundle` (one zip for e-mail),
:mod:`~.refresh` (scheduled runs: new data, then re-render what changed) and :mod:`~.doctor`
(installation checks).

May import everything below it (``errors``, ``paths``, ``core``, ``data``, ``events``, ``engine``,
``analyses``) and never ``cli``; no import cycles, not even lazy imports inside functions. Heavy
libraries (papermill, nbconvert, distributed) are imported only when used.
"""
