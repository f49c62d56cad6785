"""Core: small helpers every layer shares, with no knowledge of markets or events.

Modules: ``fileio`` (atomic writes, file pairs moved all-or-none, temporary-file clean-up,
sha256), ``fileset`` (sets of files written all or nothing: a folder replaced in one step, staged
file sets), ``csvheader`` (a CSV header as written, to refuse repeated column names), ``signals``
(SIGTERM handled like Ctrl-C), ``envvars`` (temporary environment variables),
``timefmt`` (ISO dates and UTC instants), ``windows`` (the one event-time window parser, used by
events, the engine and the notebook parameter checks), ``tables`` (the presentation layer:
tables with captions, labels and one number format per column, as text and HTML).

May import: :mod:`tradeshock.errors` and third-party libraries only; never another subpackage.
"""
