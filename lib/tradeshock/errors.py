"""Exceptions with user-facing messages: what is wrong, where, and how to fix it."""

from __future__ import annotations


class TradeshockError(Exception):
    """Base class: every message says what is wrong, where, and how to fix it."""


class DataError(TradeshockError):
    """Market data missing, malformed or inconsistent."""


class DataUnavailableError(DataError):
    """No source could serve the requested series and dates."""


class ValidationError(TradeshockError):
    """Input (a file, a parameter, a calendar) fails its schema or a rule."""


class StudyError(TradeshockError):
    """An event study cannot be run as specified (windows, models, inputs)."""


class RenderError(TradeshockError):
    """A notebook could not be executed or exported."""


class PartialDataWarning(UserWarning):
    """An online source returned fewer sessions than the exchange calendar has in the range."""
