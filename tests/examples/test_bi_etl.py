"""examples/bi_etl.yaml: three formats into a SQLite warehouse, checked against the README."""

from __future__ import annotations

import json
import sqlite3
import subprocess
from contextlib import closing
from pathlib import Path
from typing import Any

from example_support import DATA, PLAIT, direct_upstream, run_example

from plait.engine import WorkflowEngine

WORKFLOW = "bi_etl.yaml"


def query(warehouse: Path, sql: str) -> list[tuple[Any, ...]]:
    with closing(sqlite3.connect(warehouse)) as db:
        return db.execute(sql).fetchall()


def test_the_shape_is_the_guides() -> None:
    extracts = {"extract_sales", "extract_marketing", "extract_finance"}
    assert all(direct_upstream(WORKFLOW, step) == set() for step in extracts)
    assert direct_upstream(WORKFLOW, "clean") == extracts
    assert direct_upstream(WORKFLOW, "load") == {"enrich"}
    for report in ("sales_report", "marketing_report", "finance_report"):
        assert direct_upstream(WORKFLOW, report) == {"load"}


async def test_the_warehouse_holds_the_cleaned_figures_from_the_data_readme(
    sandbox: Path, engine: WorkflowEngine
) -> None:
    result = await run_example(engine, WORKFLOW)

    assert result["status"] == "completed", result["error"]
    warehouse = sandbox / ".plait" / "warehouse.db"
    # 40 rows: two exact duplicates and one row without a quantity are dropped.
    assert query(
        warehouse, "SELECT COUNT(*), SUM(quantity), ROUND(SUM(revenue), 2) FROM sales"
    ) == [(37, 133, 10000.0)]
    dropped = {(d["key"][0], d["problem"]) for d in result["output"]["rows_dropped"]}
    assert dropped == {
        ("SO-1006", "duplicate row"),
        ("SO-1021", "duplicate row"),
        ("SO-1026", "empty quantity"),
    }
    assert query(
        warehouse,
        "SELECT region, COUNT(*), SUM(quantity), SUM(revenue) FROM sales"
        " GROUP BY region ORDER BY region",
    ) == [
        ("East", 9, 39, 2230.0),
        ("North", 10, 37, 3385.0),
        ("South", 9, 24, 2270.0),
        ("West", 9, 33, 2115.0),
    ]
    assert query(warehouse, "SELECT SUM(spend), SUM(leads) FROM marketing_campaigns") == [
        (9900.0, 327)
    ]
    assert query(warehouse, "SELECT COUNT(*), SUM(amount) FROM finance_expenses") == [
        (12, 249000.0)
    ]


async def test_the_three_reports_query_the_warehouse(sandbox: Path, engine: WorkflowEngine) -> None:
    result = await run_example(engine, WORKFLOW)

    sales, marketing, finance = (
        result["output"][name] for name in ("sales", "marketing", "finance")
    )
    assert (sales["orders"], sales["units"], sales["revenue"]) == (37, 133, 10000.0)
    assert [(p["product"], p["units"], p["revenue"]) for p in sales["by_product"]] == [
        ("Sensor Kit", 39, 5850.0),
        ("Dashboard Seat", 42, 2520.0),
        ("Fleet Insights", 22, 880.0),
        ("Driver App", 30, 750.0),
    ]
    assert [m["revenue"] for m in sales["by_month"]] == [3485.0, 3405.0, 3110.0]
    assert (marketing["spend"], marketing["leads"], marketing["cost_per_lead"]) == (
        9900.0,
        327,
        30.28,
    )
    cost_per_lead = {r["region"]: r["cost_per_lead"] for r in marketing["by_region"]}
    assert cost_per_lead == {"North": 22.73, "South": 39.42, "East": 25.0, "West": 37.14}
    # The join across sources: each region's sales revenue per marketing dollar.
    revenue_per_spend = {r["region"]: r["revenue_per_spend"] for r in marketing["by_region"]}
    assert revenue_per_spend["North"] == round(3385 / 2000, 2)
    assert finance["expenses"] == 249000.0
    assert [m["expenses"] for m in finance["by_month"]] == [80000.0, 82000.0, 87000.0]
    assert {d["department"]: d["expenses"] for d in finance["by_department"]} == {
        "Engineering": 130500.0,
        "Sales": 55500.0,
        "Operations": 32500.0,
        "Support": 30500.0,
    }


async def test_running_again_replaces_the_rows_instead_of_duplicating_them(
    sandbox: Path, engine: WorkflowEngine
) -> None:
    for _ in range(2):
        result = await run_example(engine, WORKFLOW)
        assert result["status"] == "completed", result["error"]

    warehouse = sandbox / ".plait" / "warehouse.db"
    assert query(warehouse, "SELECT COUNT(*) FROM sales") == [(37,)]
    assert query(warehouse, "SELECT COUNT(*) FROM marketing_campaigns") == [(8,)]
    assert query(warehouse, "SELECT COUNT(*) FROM finance_expenses") == [(12,)]


async def test_a_row_breaking_a_business_rule_stops_the_run_before_loading(
    sandbox: Path, engine: WorkflowEngine
) -> None:
    bad = sandbox / "sales.csv"
    rows = (DATA / "sales.csv").read_text(encoding="utf-8").splitlines()
    rows.append("SO-1999,2024-03-30,Atlantis,Sensor Kit,1,150.00")
    bad.write_text("\n".join(rows) + "\n", encoding="utf-8")

    result = await run_example(engine, WORKFLOW, sales_path=str(bad))

    assert result["status"] == "failed"
    assert result["failed_step"] == "validate"
    assert "sales region is known: ['SO-1999']" in result["error"]
    assert result["steps"]["validate"]["attempts"] == 1
    assert not (sandbox / ".plait" / "warehouse.db").exists()


def test_plait_run_loads_a_warehouse_given_on_the_command_line(sandbox: Path) -> None:
    warehouse = sandbox / "bi" / "q1.db"

    completed = subprocess.run(
        [
            str(PLAIT),
            "run",
            f"examples/{WORKFLOW}",
            "--json",
            "--quiet",
            "-i",
            f"warehouse_path={warehouse}",
        ],
        cwd=sandbox,
        capture_output=True,
        text=True,
        check=False,
    )

    assert completed.returncode == 0, completed.stderr
    outcome = json.loads(completed.stdout)
    assert outcome["output"]["rows_loaded"] == {
        "sales": 37,
        "marketing_campaigns": 8,
        "finance_expenses": 12,
    }
    assert query(warehouse, "SELECT ROUND(SUM(revenue), 2) FROM sales") == [(10000.0,)]
