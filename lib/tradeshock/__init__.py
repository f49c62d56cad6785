"""tradeshock: event studies of market reactions to trade-policy shocks (2025 US tariffs).

Data flows one way: events -> market -> study -> notebook -> report.
"""

from __future__ import annotations

__version__ = "0.1.0"

from pathlib import Path as _Path

#: Repository root when installed in development mode (``pip install -e .``).
PROJECT_ROOT = _Path(__file__).resolve().parents[2]
#: Committed data: universe metadata, event calendar, pinned snapshot.
DATA_DIR = PROJECT_ROOT / "data"

__all__ = ["__version__", "PROJECT_ROOT", "DATA_DIR"]
