"""Render-side parameter contracts: every job's parameters checked before a kernel starts.

A notebook names the contract of its parameters in its metadata
(``metadata["tradeshock"]["contract"] = "tradeshock.analyses.<module>:PARAMETERS"``; the notebook
checks the same contract again on entry, for papermill and JupyterLab users). :func:`check_jobs`
takes the values a render or a sweep would inject, fills in the defaults of the ``parameters``
cell, checks them against the contract and against the data that would serve them (windows the
data cannot fill are refused with the range they cover), and raises one
:class:`~tradeshock.errors.ValidationError` naming every report and problem, so that nothing runs
when anything is wrong.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tradeshock.analyses.contract import Contract, load_contract
from tradeshock.errors import DataError, ValidationError
from tradeshock.pipeline.params import inspect_parameters
from tradeshock.pipeline.tasks import RenderJob

__all__ = ["contract_of", "check_jobs"]


def contract_of(notebook: str | Path) -> Contract | None:
    """The contract a notebook names in ``metadata.tradeshock.contract`` (None if it names none)."""
    try:
        nb = json.loads(Path(notebook).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ValidationError(f"notebook {notebook} cannot be read ({exc}); open it in "
                              "JupyterLab and save it again") from None
    ref = ((nb.get("metadata") or {}).get("tradeshock") or {}).get("contract")
    return load_contract(ref) if ref else None


def _values(job: RenderJob) -> dict[str, Any]:
    declared = inspect_parameters(job.notebook)
    values = {name: spec.default for name, spec in declared.specs.items()}
    values.update(job.params)
    return values


def check_jobs(jobs: Sequence[RenderJob], *, data: bool = True) -> None:
    """Check every job against its notebook's contract (and, with ``data``, the data's range)."""
    from tradeshock.pipeline.preamble import coverage  # loads prices only when a job needs it

    cache: dict[str, tuple] = {}

    def cover(symbols: Sequence[str]) -> dict[str, tuple]:
        missing = [s for s in symbols if s not in cache]
        if missing:
            try:
                cache.update(coverage(missing))
            except DataError as exc:  # say which series cannot be served, as a parameter problem
                cache.update({s: (None, None) for s in missing})
                raise ValidationError(str(exc)) from None
        return {s: cache[s] for s in symbols}

    problems = []
    contracts: dict[Path, Contract | None] = {}
    for job in jobs:
        if job.notebook not in contracts:
            contracts[job.notebook] = contract_of(job.notebook)
        contract = contracts[job.notebook]
        if contract is None:
            continue
        try:
            contract.check(_values(job), coverage=cover if data else None)
        except ValidationError as exc:
            label = f" ({job.label})" if job.label else ""
            problems.append(f"report {job.name}{label}: {exc}")
    if problems:
        raise ValidationError("\n".join(problems))
