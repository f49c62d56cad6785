"""Parameter contracts: what each notebook parameter must be, checked once, before any work.

A notebook's analysis module declares a :class:`Contract` next to the notebook's parameters: one
:class:`Param` per parameter (type, allowed values, range), the rules that tie parameters together
(an estimation window that ends before the event window starts, CAR windows inside the event
window, two lists that must not overlap), and the price history the windows need around the
events. The same declaration is checked twice:

* by ``tradeshock render`` and sweeps, on the resolved values, **before a kernel starts**
  (the notebook names its contract in its metadata: ``tradeshock.contract = "module:NAME"``);
* inside the notebook, on entry (:meth:`Contract.check`), for papermill and JupyterLab users.

Every problem is collected and raised at once as a :class:`~tradeshock.errors.ValidationError`
whose lines say which parameter, what is wrong with the value given, and how to fix it. A window
that the data cannot fill is refused with the range the data do cover (:meth:`Contract.history`
tells the notebook how much history to load so that nothing is cut silently).

Imports: errors, core, data (universe, calendars), events. Never the engine, pipeline or cli.
"""

from __future__ import annotations

import difflib
import importlib
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from tradeshock.core.windows import parse_window
from tradeshock.errors import ValidationError

__all__ = [
    "Param", "Symbol", "Symbols", "Event", "Events", "Window", "Windows", "Choice", "Integer",
    "Number", "Flag", "Date", "Kinds", "Codes", "Text", "Rule", "before", "inside", "disjoint",
    "ordered", "History", "Contract", "Parameters", "EventRef", "load_contract",
]


class _Bad(Exception):
    """One problem with one value: ``what`` is wrong, ``fix`` says how to mend it."""

    def __init__(self, what: str, fix: str):
        super().__init__(what)
        self.what, self.fix = what, fix


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


class _Context:
    """What parsing needs, loaded on first use: the event calendar and the universe."""

    def __init__(self, events: pd.DataFrame | None = None, universe: pd.DataFrame | None = None):
        self._events, self._universe = events, universe

    @property
    def events(self) -> pd.DataFrame:
        if self._events is None:
            from tradeshock.events.calendar import load_events

            self._events = load_events()
        return self._events

    @property
    def universe(self) -> pd.DataFrame:
        if self._universe is None:
            from tradeshock.data.universe import load_universe

            self._universe = load_universe()
        return self._universe


# ------------------------------------------------------------------------------------ values
@dataclass(frozen=True)
class EventRef:
    """A calendar event named by a parameter: id, title, local date and kind."""

    event_id: str
    title: str
    date: pd.Timestamp
    kind: str
    timed: bool

    def __str__(self) -> str:
        return self.event_id

    @property
    def label(self) -> str:
        """``Title (2 Apr 2025)``: how a reader knows the event."""
        return f"{self.title} ({self.date:%-d %b %Y})"


# ------------------------------------------------------------------------------------ params
@dataclass(frozen=True)
class Param:
    """One parameter: its name, a one-line meaning, and whether ``None`` is allowed."""

    name: str
    help: str = ""
    optional: bool = False

    def parse(self, value: Any, ctx: _Context) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def check(self, value: Any, ctx: _Context) -> Any:
        if self.optional and isinstance(value, str) and value.strip() in ("None", "null", "~"):
            value = None  # `-p NAME None` on the command line sends the text 'None'
        if value is None:
            if self.optional:
                return None
            raise _Bad("is None, but a value is needed", self.fix_hint())
        return self.parse(value, ctx)

    def fix_hint(self) -> str:
        return f"give {self.help}" if self.help else "give a value"


def _as_list(value: Any, name: str) -> list:
    """A list parameter given as a list, ``"a, b"`` or a list written as text (``'["a", "b"]'``,
    what ``papermill -p NAME '[...]'`` passes, since ``-p`` sends strings)."""
    if isinstance(value, str) and value.strip().startswith("["):
        import yaml

        try:
            value = yaml.safe_load(value)
        except yaml.YAMLError:
            raise _Bad(f"= {value!r} starts like a list but is not one",
                       "write a list such as ['a', 'b'] or a, b") from None
        if not isinstance(value, list):
            raise _Bad("is not a list", "write a list such as ['a', 'b'] or a, b")
        return value
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    if isinstance(value, (list, tuple)):
        return list(value)
    raise _Bad(f"is a {type(value).__name__}, not a list", "write a list such as ['a', 'b']")


def _count(items: list, lo: int, hi: int | None, noun: str) -> None:
    """``items`` has ``lo``..``hi`` entries, none twice (``noun`` is singular: 'symbol')."""
    def many(n: int) -> str:
        return f"{n} {noun}" + ("" if n == 1 else "s")

    if len(items) < lo:
        what = "is empty" if not items else f"has {many(len(items))}, fewer than {lo}"
        raise _Bad(what, f"list at least {many(lo)}")
    if hi is not None and len(items) > hi:
        raise _Bad(f"has {many(len(items))}, more than {hi}", f"list at most {many(hi)}")
    dup = sorted({str(x) for x in items if items.count(x) > 1})
    if dup:
        raise _Bad(f"lists {', '.join(dup)} more than once", f"list each {noun} once")


@dataclass(frozen=True)
class Symbol(Param):
    """A series of the universe (``data/universe.csv``); ``groups`` limits it to some groups,
    ``priced`` to price series (simple returns), ``exchange`` to series with an exchange calendar."""

    groups: tuple[str, ...] = ()
    priced: bool = False
    exchange: bool = False
    #: ``(parameter, value)``: the series is used (loaded, its history needed) only when that
    #: parameter has that value, e.g. a market proxy only for ``model = "market"``.
    used_if: tuple[str, Any] | None = None

    def used(self, values: Mapping[str, Any]) -> bool:
        """Whether the study uses this series with these (checked) parameter values."""
        return self.used_if is None or values.get(self.used_if[0]) == self.used_if[1]

    def parse(self, value: Any, ctx: _Context) -> str:
        if not isinstance(value, str) or not value.strip():
            raise _Bad(f"= {_show(value)} is not a symbol", "give a symbol of data/universe.csv, "
                       "e.g. '^GSPC' (`tradeshock data status` lists them)")
        uni = ctx.universe.set_index("symbol")
        sym = value.strip()
        if sym not in uni.index:
            same = [u for u in uni.index if u.upper() == sym.upper()]  # '^gspc' -> '^GSPC'
            close = same or difflib.get_close_matches(sym, list(uni.index), n=3)
            hint = f" (did you mean {', '.join(close)}?)" if close else ""
            raise _Bad(f"= {sym!r} is not in data/universe.csv{hint}",
                       "use a listed symbol (`tradeshock data status` lists them)")
        row = uni.loc[sym]
        if self.groups and row["group"] not in self.groups:
            raise _Bad(f"= {sym!r} is in group {row['group']!r}",
                       f"use a symbol of group {' or '.join(self.groups)}")
        if self.priced and row["measure"] != "simple_return":
            raise _Bad(f"= {sym!r} ({row['name']}) is a {row['measure']} series, not a price",
                       "use an index, ETF, stock or price series")
        if self.exchange and not row["exchange_calendar"]:
            raise _Bad(f"= {sym!r} ({row['name']}) trades on no exchange calendar",
                       "use an index or ETF with an exchange (e.g. ^GSPC, ^N225, EWJ)")
        return sym


@dataclass(frozen=True)
class Symbols(Symbol):
    """A list of :class:`Symbol`, at least ``min_items`` (and at most ``max_items``) long."""

    min_items: int = 1
    max_items: int | None = None

    def parse(self, value: Any, ctx: _Context) -> list[str]:
        items = _as_list(value, self.name)
        _count(items, self.min_items, self.max_items, "symbol")
        out, bad = [], []
        for i, v in enumerate(items):
            try:
                out.append(Symbol.parse(self, v, ctx))
            except _Bad as exc:
                bad.append(f"item {i + 1} {exc.what}")
        if bad:
            raise _Bad("; ".join(bad), "use symbols of data/universe.csv (`tradeshock data "
                       "status` lists them)")
        return out


def _event_ref(value: Any, ctx: _Context) -> EventRef:
    from tradeshock.events.calendar import KEY_EVENTS, get_event

    if not isinstance(value, str) or not value.strip():
        raise _Bad(f"= {_show(value)} is not an event id",
                   "give an event id or short name (`tradeshock events list`)")
    try:
        row = get_event(value.strip(), ctx.events)
    except ValidationError:
        ids = list(ctx.events["event_id"]) + list(KEY_EVENTS)
        close = difflib.get_close_matches(value.strip(), ids, n=3)
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        raise _Bad(f"= {value!r} is not an event of the calendar{hint}",
                   "give an event_id or short name (`tradeshock events list` shows them)") from None
    return EventRef(str(row["event_id"]), str(row["title"]), pd.Timestamp(row["date"]),
                    str(row["kind"]), bool(row["timed"]))


@dataclass(frozen=True)
class Event(Param):
    """An event of the calendar, by ``event_id`` or short name (``liberation_day``)."""

    def parse(self, value: Any, ctx: _Context) -> EventRef:
        return _event_ref(value, ctx)


@dataclass(frozen=True)
class Events(Param):
    """A list of calendar events, at least ``min_items`` long."""

    min_items: int = 1

    def parse(self, value: Any, ctx: _Context) -> list[EventRef]:
        items = _as_list(value, self.name)
        _count(items, self.min_items, None, "event")
        out, bad = [], []
        for i, v in enumerate(items):
            try:
                out.append(_event_ref(v, ctx))
            except _Bad as exc:
                bad.append(f"item {i + 1} {exc.what}")
        if bad:
            raise _Bad("; ".join(bad), "give event ids or short names (`tradeshock events "
                       "list`)")
        ids = [e.event_id for e in out]
        _count(ids, self.min_items, None, "event")  # two names of one event are a duplicate
        return out


def _window(value: Any, lo: int | None, hi: int | None) -> tuple[int, int]:
    try:
        a, b = parse_window(value, kind="days")
    except ValidationError:
        raise _Bad(f"= {_show(value)} is not a window of trading days",
                   "write 'START:END' in trading days relative to day 0, e.g. '-260:-11'") from None
    if lo is not None and a < lo or hi is not None and b > hi:
        rng = f"{'' if lo is None else lo}..{'' if hi is None else hi}"
        raise _Bad(f"= {_show(value)} leaves the allowed range {rng}",
                   f"keep both ends within {rng}")
    return a, b


@dataclass(frozen=True)
class Window(Param):
    """A window of trading-day offsets from day 0, both ends inclusive (``"-260:-11"``)."""

    lo: int | None = None
    hi: int | None = None
    #: The fewest sessions the window may hold (e.g. the engine's 30 estimation rows), or None.
    min_length: int | None = None

    def parse(self, value: Any, ctx: _Context) -> tuple[int, int]:
        a, b = _window(value, self.lo, self.hi)
        if self.min_length is not None and b - a + 1 < self.min_length:
            raise _Bad(f"= {_show(value)} holds {b - a + 1} sessions, fewer than the "
                       f"{self.min_length} needed", f"give at least {self.min_length} sessions, "
                       f"e.g. {b - self.min_length + 1}:{b} or longer")
        return a, b


@dataclass(frozen=True)
class Windows(Window):
    """A list of :class:`Window`, at least ``min_items`` long."""

    min_items: int = 1

    def parse(self, value: Any, ctx: _Context) -> list[tuple[int, int]]:
        if isinstance(value, str) and value.strip().startswith("["):
            items: list = _as_list(value, self.name)
        elif isinstance(value, str):
            items = [v for v in value.split(",") if v.strip()]
        elif isinstance(value, (list, tuple)) and len(value) == 2 and all(
                isinstance(v, int) and not isinstance(v, bool) for v in value):
            items = [tuple(value)]  # one window given as a pair
        elif isinstance(value, (list, tuple)):
            items = list(value)
        else:
            raise _Bad(f"= {_show(value)} is not a list of windows",
                       "write a list such as ['0:0', '0:3']")
        out = [_window(v, self.lo, self.hi) for v in items]
        _count(out, self.min_items, None, "window")
        return out


@dataclass(frozen=True)
class Choice(Param):
    """One of a fixed set of strings."""

    choices: tuple[str, ...] = ()

    def parse(self, value: Any, ctx: _Context) -> str:
        if value not in self.choices:
            close = difflib.get_close_matches(str(value), self.choices, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise _Bad(f"= {_show(value)} is not allowed{hint}",
                       f"use one of {', '.join(self.choices)}")
        return str(value)


@dataclass(frozen=True)
class Integer(Param):
    """A whole number within ``lo..hi`` (inclusive)."""

    lo: int | None = None
    hi: int | None = None

    def parse(self, value: Any, ctx: _Context) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise _Bad(f"= {_show(value)} is not a whole number", "give an integer, e.g. 20")
        if self.lo is not None and value < self.lo or self.hi is not None and value > self.hi:
            raise _Bad(f"= {value} is outside {self.lo}..{self.hi}",
                       f"give an integer from {self.lo} to {self.hi}")
        return value


@dataclass(frozen=True)
class Number(Param):
    """A finite number within ``lo..hi``; ``open_interval`` excludes the ends."""

    lo: float | None = None
    hi: float | None = None
    open_interval: bool = False

    def parse(self, value: Any, ctx: _Context) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(
                value):
            raise _Bad(f"= {_show(value)} is not a finite number", "give a number, e.g. 0.05")
        v = float(value)
        below = self.lo is not None and (v <= self.lo if self.open_interval else v < self.lo)
        above = self.hi is not None and (v >= self.hi if self.open_interval else v > self.hi)
        if below or above:
            ends = "strictly between" if self.open_interval else "from"
            sep = "and" if self.open_interval else "to"
            raise _Bad(f"= {v:g} is out of range", f"give a number {ends} {self.lo} {sep} {self.hi}")
        return v


@dataclass(frozen=True)
class Flag(Param):
    """True or False."""

    def parse(self, value: Any, ctx: _Context) -> bool:
        if not isinstance(value, bool):
            raise _Bad(f"= {_show(value)} is not True or False", "write True or False")
        return value


@dataclass(frozen=True)
class Date(Param):
    """An ISO date ``YYYY-MM-DD`` (a session date or a calendar date, as the help says)."""

    def parse(self, value: Any, ctx: _Context) -> pd.Timestamp:
        import datetime as dt

        import numpy as np

        from tradeshock.events.schema import is_iso_date

        if isinstance(value, (dt.date, np.datetime64)):  # a date object typed in JupyterLab
            stamp = pd.Timestamp(value)
            if stamp.tzinfo is not None or stamp != stamp.normalize():
                raise _Bad(f"= {_show(value)} has a time of day or a time zone",
                           "give a calendar date, e.g. '2025-04-02' or pd.Timestamp('2025-04-02')")
            return stamp
        text = str(value).strip()
        if not is_iso_date(text[:10]) or len(text) != 10:
            raise _Bad(f"= {_show(value)} is not an ISO date", "write YYYY-MM-DD, e.g. 2025-04-02")
        return pd.Timestamp(text)


@dataclass(frozen=True)
class Kinds(Param):
    """A list of event kinds of the calendar's vocabulary (``announcement``, ``deal``, ...)."""

    min_items: int = 1

    def parse(self, value: Any, ctx: _Context) -> list[str]:
        from tradeshock.events.calendar import KINDS

        items = _as_list(value, self.name)
        _count(items, self.min_items, None, "kind")
        bad = [k for k in items if k not in KINDS]
        if bad:
            raise _Bad(f"lists unknown kind(s) {', '.join(map(repr, bad))}",
                       f"use kinds of the calendar: {', '.join(KINDS)}")
        return [str(k) for k in items]


@dataclass(frozen=True)
class Codes(Param):
    """A list of upper-case codes (ISO 3166 country codes, exchange calendar codes) checked
    against ``known`` (a callable returning the allowed set, or ``None`` for the format only)."""

    min_items: int = 0
    length: int | None = None
    known: Callable[[], Iterable[str]] | None = None

    def parse(self, value: Any, ctx: _Context) -> list[str]:
        items = _as_list(value, self.name)
        _count(items, self.min_items, None, "code")
        allowed = set(self.known()) if self.known is not None else None
        bad = [c for c in items if not isinstance(c, str) or not c.isupper()
               or (self.length is not None and len(c) != self.length)
               or (allowed is not None and c not in allowed)]
        if bad:
            what = f"{self.length}-letter upper-case codes" if self.length else "known codes"
            if allowed is not None and not [c for c in bad if not isinstance(c, str) or not
                                            c.isupper() or len(c) != (self.length or len(c))]:
                what = "known codes"  # well formed, but not in the allowed set
            raise _Bad(f"lists {', '.join(map(repr, bad))}, not {what}",
                       f"use {what}" + (f" such as {', '.join(sorted(allowed)[:6])}"
                                        if allowed else ""))
        return list(items)


@dataclass(frozen=True)
class Text(Param):
    """Free text (a label), at most ``max_length`` characters."""

    max_length: int = 200

    def parse(self, value: Any, ctx: _Context) -> str:
        if not isinstance(value, str) or len(value) > self.max_length:
            raise _Bad(f"= {_show(value)} is not a text of at most {self.max_length} characters",
                       "give a short text")
        return value


# ------------------------------------------------------------------------------------ rules
@dataclass(frozen=True)
class Rule:
    """A relation between parameters: ``test(values) -> problem text or None``."""

    names: tuple[str, ...]
    test: Callable[[Mapping[str, Any]], str | None]
    fix: str

    def check(self, values: Mapping[str, Any]) -> str | None:
        if any(values.get(n) is None for n in self.names):
            return None  # an optional parameter left out, or a value already refused
        return self.test(values)


def _wtext(w: tuple[int, int]) -> str:
    return f"{w[0]}:{w[1]}"


def before(first: str, second: str) -> Rule:
    """Window ``first`` ends before window ``second`` starts (estimation before event)."""
    def test(v):
        a, b = v[first], v[second]
        if a[1] >= b[0]:
            return (f"{first} {_wtext(a)} does not end before {second} {_wtext(b)} starts "
                    "(the two would overlap)")
        return None
    return Rule((first, second), test,
                f"end {first} before {second} starts, e.g. -260:-11 with -1:5")


def inside(inner: str, outer: str) -> Rule:
    """Every window of ``inner`` (a window or a list) lies inside window ``outer``."""
    def test(v):
        ws = v[inner] if isinstance(v[inner], list) else [v[inner]]
        o = v[outer]
        out = [_wtext(w) for w in ws if w[0] < o[0] or w[1] > o[1]]
        if out:
            return f"{inner} {', '.join(out)} not inside {outer} {_wtext(o)}"
        return None
    return Rule((inner, outer), test, f"keep {inner} within {outer} (or widen {outer})")


def disjoint(a: str, b: str) -> Rule:
    """Lists ``a`` and ``b`` share no item."""
    def test(v):
        common = sorted(set(map(str, v[a])) & set(map(str, v[b])))
        return f"{a} and {b} both list {', '.join(common)}" if common else None
    return Rule((a, b), test, f"list each item in {a} or in {b}, not both")


def ordered(first: str, second: str, strict: bool = True) -> Rule:
    """Value ``first`` comes before (``strict``) or on ``second`` (dates, numbers)."""
    def test(v):
        x, y = v[first], v[second]
        bad = x >= y if strict else x > y
        if bad:
            return f"{first} {_fmt_scalar(x)} is not before {second} {_fmt_scalar(y)}"
        return None
    return Rule((first, second), test, f"give {first} earlier than {second}")


def _fmt_scalar(x: Any) -> str:
    return f"{x:%Y-%m-%d}" if isinstance(x, pd.Timestamp) else str(x)


# ------------------------------------------------------------------------------------ history
@dataclass(frozen=True)
class History:
    """The price history a study needs: for every symbol of ``symbols`` (parameter names of
    :class:`Symbol`/:class:`Symbols`) and every event of ``events`` (:class:`Event`/
    :class:`Events` names), the sessions of ``windows`` (:class:`Window` names) around the
    event's day 0 on ``calendar`` (an exchange code, or ``None``: each symbol's own exchange,
    XNYS for series without one). ``sessions_before`` names :class:`Integer` parameters that
    count sessions ending the session before day 0 (an estimation period of N sessions: the
    window ``-N:-1``)."""

    symbols: tuple[str, ...]
    events: tuple[str, ...]
    windows: tuple[str, ...]
    calendar: str | None = None
    sessions_before: tuple[str, ...] = ()
    #: :class:`Integer` parameters that count sessions from day 0 on (a trough looked for up to
    #: day +N: the window ``0:N``).
    sessions_after: tuple[str, ...] = ()
    #: :class:`Date` parameters (e.g. an optional reference date, a chart's first and last date)
    #: that the symbols' data must also reach: loaded from, and refused when not covered.
    dates: tuple[str, ...] = ()


@dataclass(frozen=True)
class Need:
    """One symbol's needed sessions: ``first``..``last`` (session dates), and why."""

    symbol: str
    first: pd.Timestamp
    last: pd.Timestamp
    why: str


# ------------------------------------------------------------------------------------ contract
class Parameters(Mapping[str, Any]):
    """Checked parameter values: ``p.event_window`` or ``p["event_window"]``; ``p.raw`` holds
    the values as given."""

    def __init__(self, values: Mapping[str, Any], raw: Mapping[str, Any]):
        self._values, self.raw = dict(values), dict(raw)

    def __getitem__(self, key: str) -> Any:
        return self._values[key]

    def __iter__(self):
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __getattr__(self, name: str) -> Any:
        try:
            return self.__dict__["_values"][name]
        except KeyError:
            raise AttributeError(name) from None

    def __repr__(self) -> str:
        return f"Parameters({self.raw!r})"


@dataclass
class Contract:
    """What a notebook's parameters must be (see the module docstring)."""

    notebook: str
    params: Sequence[Param]
    rules: Sequence[Rule] = ()
    history: Sequence[History] = ()
    #: Extra checks over the parsed values: ``fn(values) -> list of (parameter, problem, fix)``.
    checks: Sequence[Callable[[Mapping[str, Any]], list[tuple[str, str, str]]]] = field(
        default_factory=tuple)

    def names(self) -> list[str]:
        return [p.name for p in self.params]

    def _problem(self, name: str, what: str, fix: str) -> str:
        return f"parameter {name!r} {what}. Fix: {fix}."

    def check(self, values: Mapping[str, Any], *, events: pd.DataFrame | None = None,
              universe: pd.DataFrame | None = None,
              coverage: Callable[[Sequence[str]], Mapping[str, tuple]] | None = None) -> Parameters:
        """Parse and check every parameter of ``values`` (a notebook's namespace or the resolved
        render parameters; other names are ignored); raise one ValidationError listing every
        problem. With ``coverage`` (symbols -> {symbol: (first, last)} of the data that will
        serve them), also refuse windows that the data cannot fill."""
        ctx = _Context(events, universe)
        parsed: dict[str, Any] = {}
        raw: dict[str, Any] = {}
        problems: list[str] = []
        for p in self.params:
            if p.name not in values:
                problems.append(self._problem(p.name, "is missing", "define it in the "
                                              "parameters cell"))
                continue
            raw[p.name] = values[p.name]
            try:
                parsed[p.name] = p.check(values[p.name], ctx)
            except _Bad as exc:
                parsed[p.name] = None
                problems.append(self._problem(p.name, exc.what, exc.fix))
        for rule in self.rules:
            msg = rule.check(parsed)
            if msg:
                problems.append(f"parameters {', '.join(map(repr, rule.names))}: {msg}. "
                                f"Fix: {rule.fix}.")
        if not problems:
            for fn in self.checks:
                problems += [self._problem(n, w, f) for n, w, f in fn(parsed)]
        if not problems and coverage is not None and self.history:
            problems += self._coverage_problems(parsed, ctx, coverage)
        if problems:
            head = (f"{self.notebook}: {len(problems)} parameter problem"
                    f"{'s' if len(problems) != 1 else ''} (nothing was run):")
            err = ValidationError("\n".join([head] + [f"  - {p}" for p in problems]))
            err.problems = problems  # type: ignore[attr-defined]
            raise err
        return Parameters(parsed, raw)

    # ---- history
    def needs(self, p: Mapping[str, Any], *, events: pd.DataFrame | None = None,
              universe: pd.DataFrame | None = None) -> list[Need]:
        """The sessions each symbol must have for the windows of ``p`` (checked values) around
        each event's day 0; raises ValidationError when a window runs off the exchange calendar."""
        ctx = _Context(events, universe)
        p = self.used_values(p)
        return [n for h in self.history for n in _needs_of(h, p, ctx)]

    def used_values(self, p: Mapping[str, Any]) -> dict[str, Any]:
        """``p`` with the series the study does not use (:attr:`Symbol.used_if`) set to None."""
        out = dict(p)
        for prm in self.params:
            if isinstance(prm, Symbol) and not prm.used(p):
                out[prm.name] = None
        return out

    def _coverage_problems(self, p, ctx, coverage) -> list[str]:
        try:
            p = self.used_values(p)
            needs = [n for h in self.history for n in _needs_of(h, p, ctx)]
        except ValidationError as exc:
            return [str(exc)]
        have = coverage(sorted({n.symbol for n in needs}))
        problems = []
        for n in needs:
            first, last = have.get(n.symbol, (None, None))
            if first is None:
                problems.append(f"{n.symbol}: no data at all for {n.why}. Fix: choose another "
                                "series or check `tradeshock data status`.")
            elif n.first < pd.Timestamp(first) or n.last > pd.Timestamp(last):
                problems.append(
                    f"{n.why} needs {n.symbol} from {n.first:%Y-%m-%d} to {n.last:%Y-%m-%d}, but "
                    f"its data cover {pd.Timestamp(first):%Y-%m-%d} to "
                    f"{pd.Timestamp(last):%Y-%m-%d}. Fix: shorten the window or choose an event "
                    "the data cover.")
        return problems


def _needs_of(h: History, p: Mapping[str, Any], ctx: _Context) -> list[Need]:
    from tradeshock.events.align import align, event_window

    syms: list[str] = []
    for name in h.symbols:
        v = p.get(name)
        syms += v if isinstance(v, list) else ([v] if v else [])
    evs: list[EventRef] = []
    for name in h.events:
        v = p.get(name)
        evs += v if isinstance(v, list) else ([v] if v else [])
    wins = [p[n] for n in h.windows if p.get(n) is not None]
    wins += [(-int(p[n]), -1) for n in h.sessions_before if p.get(n) is not None]
    wins += [(0, int(p[n])) for n in h.sessions_after if p.get(n) is not None]
    dated = [Need(sym, p[d], p[d], f"{d} {p[d]:%Y-%m-%d}") for d in h.dates
             if p.get(d) is not None for sym in dict.fromkeys(syms)]
    if not (syms and evs and wins):
        return dated
    lo, hi = min(w[0] for w in wins), max(w[1] for w in wins)
    named = ", ".join(h.windows + h.sessions_before + h.sessions_after)
    uni = ctx.universe.set_index("symbol")
    out = []
    for sym in dict.fromkeys(syms):
        cal = h.calendar or (uni.at[sym, "exchange_calendar"] if sym in uni.index else "") or "XNYS"
        for ev in evs:
            a = align(ev.event_id, cal, events=ctx.events)
            try:
                win = event_window(a, cal, (lo, hi))
            except ValidationError as exc:
                raise ValidationError(
                    f"windows {named} ({lo}:{hi} around {ev.label}, day 0 "
                    f"{a.day0:%Y-%m-%d} on {cal}) run off the {cal} calendar: {exc}") from None
            out.append(Need(sym, win["session"].iloc[0], win["session"].iloc[-1],
                            f"{named} {lo}:{hi} around {ev.label} on {cal}"))
    return out + dated


def load_contract(ref: str) -> Contract:
    """The contract named ``"module:NAME"`` (a notebook's ``tradeshock.contract`` metadata)."""
    module, _, attr = ref.partition(":")
    if not module.startswith("tradeshock.") or not attr:
        raise ValidationError(
            f"contract reference {ref!r} is not 'tradeshock.<module>:<NAME>'. Fix: set the "
            "notebook's metadata tradeshock.contract to e.g. "
            "'tradeshock.analyses.us_indices:PARAMETERS'.")
    try:
        obj = getattr(importlib.import_module(module), attr)
    except (ImportError, AttributeError) as exc:
        raise ValidationError(f"contract {ref!r} cannot be loaded ({exc}). Fix: name an "
                              "existing Contract in the notebook's metadata.") from None
    if not isinstance(obj, Contract):
        raise ValidationError(f"{ref!r} is a {type(obj).__name__}, not a Contract.")
    return obj
