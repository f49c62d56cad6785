"""Airflow DAG: refresh tradeshock's market data, then execute every notebook with papermill.

Copy this file into the dags/ folder of an Airflow 2.4+ or 3 installation that has
apache-airflow-providers-papermill, and set TRADESHOCK_HOME to the project folder on the workers
(which need the project's .venv and its Jupyter kernel "tradeshock": `make install kernel`).
The executed notebooks are written to reports/airflow/<run date>/; for the HTML reports with
their index, use `tradeshock refresh` (cron, systemd or GitHub Actions) instead.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta, timezone

from airflow.providers.papermill.operators.papermill import PapermillOperator

try:  # Airflow 3, and Airflow 2 with the standard provider
    from airflow.providers.standard.operators.bash import BashOperator
except ImportError:  # Airflow 2
    from airflow.operators.bash import BashOperator

try:  # Airflow 3
    from airflow.sdk import DAG
except ImportError:  # Airflow 2
    from airflow import DAG

PROJECT = os.environ.get("TRADESHOCK_HOME", "/opt/tradeshock")
#: The notebooks of notebooks/, each run with its default parameters.
NOTEBOOKS = [
    "01_event_calendar",
    "02_us_indices",
    "03_sectors",
    "04_global",
    "05_selloff_rebound",
    "06_summary",
    "07_tariff_calendar",
    "country_report",
]

with DAG(
    dag_id="tradeshock_refresh",
    description="Fetch new market data, then execute the tradeshock notebooks",
    schedule="30 22 * * 1-5",  # weekdays 22:30 UTC, after the US close
    start_date=datetime(2025, 4, 1, tzinfo=timezone.utc),
    catchup=False,
    max_active_runs=1,
    default_args={"retries": 1, "retry_delay": timedelta(minutes=10)},
    tags=["tradeshock"],
) as dag:
    # Exit status 2 (every download failed, or another refresh holds the lock) fails this task,
    # so the notebooks do not run on stale data; one failed series does not (it is reported).
    refresh_data = BashOperator(
        task_id="refresh_data",
        bash_command=(
            f"cd {PROJECT} && .venv/bin/tradeshock refresh --no-render"
            " && mkdir -p reports/airflow/{{ ds }}"
        ),
    )
    for name in NOTEBOOKS:
        refresh_data >> PapermillOperator(
            task_id=f"run_{name}",
            input_nb=f"{PROJECT}/notebooks/{name}.ipynb",
            output_nb=f"{PROJECT}/reports/airflow/{{{{ ds }}}}/{name}.ipynb",
            parameters={},
            kernel_name="tradeshock",
            language_name="python",
        )
