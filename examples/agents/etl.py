"""BI ETL agents for `examples/bi_etl.yaml`: three source formats into one SQLite warehouse.

Data moves between steps as ``{"datasets": {name: [record, ...]}, ...}`` so each stage
handles every source in one place. The load replaces each table's contents inside one
transaction: a re-run leaves the same rows, never duplicates, and a failed load leaves
the previous contents.
"""

from __future__ import annotations

import csv
import itertools
import json
import sqlite3
import xml.etree.ElementTree as ET
from contextlib import closing
from datetime import date
from pathlib import Path
from typing import Any

Record = dict[str, Any]

REGIONS = frozenset({"North", "South", "East", "West"})

# Per dataset: field -> converter. A field that is missing, empty or fails to convert
# makes the record invalid, and cleaning drops it with a reason.
FIELDS: dict[str, dict[str, type]] = {
    "sales": {
        "order_id": str,
        "date": str,
        "region": str,
        "product": str,
        "quantity": int,
        "unit_price": float,
    },
    "marketing": {
        "campaign_id": str,
        "name": str,
        "region": str,
        "channel": str,
        "month": str,
        "spend": float,
        "leads": int,
    },
    "finance": {"month": str, "department": str, "amount": float},
}
KEYS = {"sales": ("order_id",), "marketing": ("campaign_id",), "finance": ("month", "department")}

SCHEMA = """
CREATE TABLE IF NOT EXISTS sales (
    order_id    TEXT PRIMARY KEY,
    order_date  TEXT NOT NULL,
    month       TEXT NOT NULL,
    region      TEXT NOT NULL,
    product     TEXT NOT NULL,
    quantity    INTEGER NOT NULL CHECK (quantity > 0),
    unit_price  REAL NOT NULL CHECK (unit_price > 0),
    revenue     REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS marketing_campaigns (
    campaign_id   TEXT PRIMARY KEY,
    name          TEXT NOT NULL,
    region        TEXT NOT NULL,
    channel       TEXT NOT NULL,
    month         TEXT NOT NULL,
    spend         REAL NOT NULL CHECK (spend >= 0),
    leads         INTEGER NOT NULL CHECK (leads >= 0),
    cost_per_lead REAL
);
CREATE TABLE IF NOT EXISTS finance_expenses (
    month       TEXT NOT NULL,
    department  TEXT NOT NULL,
    amount      REAL NOT NULL CHECK (amount >= 0),
    PRIMARY KEY (month, department)
);
"""


def extract(*, source: str, path: str) -> dict[str, Any]:
    """Read one source file as raw records (strings as found), picking the parser by suffix."""
    file = Path(path)
    suffix = file.suffix.lower()
    if suffix == ".csv":
        with file.open(newline="", encoding="utf-8") as handle:
            records: list[Record] = list(csv.DictReader(handle))
        meta: dict[str, Any] = {}
    elif suffix == ".json":
        document = json.loads(file.read_text(encoding="utf-8"))
        records = document.pop("campaigns")
        meta = document
    elif suffix == ".xml":
        root = ET.parse(file).getroot()
        records = [
            {"month": month.get("id"), "department": item.get("department"), "amount": item.text}
            for month in root.iter("month")
            for item in month.iter("expense")
        ]
        meta = dict(root.attrib)
    else:
        raise ValueError(f"cannot extract {path!r}: expected a .csv, .json or .xml file")
    return {"source": source, "path": str(file.resolve()), "records": records, "meta": meta}


def clean(*, data: list[dict[str, Any]]) -> dict[str, Any]:
    """Convert types, drop records with missing or unreadable fields, drop exact duplicates.

    A second record with the same key but different values is dropped too and reported as a
    conflict: picking one silently would hide a data-quality problem upstream.
    """
    datasets: dict[str, list[Record]] = {}
    dropped: list[dict[str, Any]] = []
    for extracted in data:
        name = extracted["source"]
        fields = FIELDS[name]
        kept: dict[tuple[Any, ...], Record] = {}
        for position, raw in enumerate(extracted["records"], start=1):
            record, problem = _convert(raw, fields)
            key = tuple(record.get(k) for k in KEYS[name])
            if problem is None and key in kept:
                problem = "duplicate row" if kept[key] == record else "conflicting duplicate key"
            if problem is not None:
                dropped.append({"dataset": name, "row": position, "key": key, "problem": problem})
                continue
            kept[key] = record
        datasets[name] = list(kept.values())
    return {
        "datasets": datasets,
        "dropped": dropped,
        "counts": {name: len(rows) for name, rows in datasets.items()},
    }


def _convert(raw: Record, fields: dict[str, type]) -> tuple[Record, str | None]:
    record: Record = {}
    for field, kind in fields.items():
        value = raw.get(field)
        text = value.strip() if isinstance(value, str) else value
        if text is None or text == "":
            return record, f"empty {field}"
        try:
            record[field] = kind(text)
        except (TypeError, ValueError):
            return record, f"unreadable {field}: {text!r}"
    return record, None


def validate(*, data: dict[str, Any]) -> dict[str, Any]:
    """Business rules the warehouse relies on; any failure stops the run before loading."""
    sales = data["datasets"]["sales"]
    marketing = data["datasets"]["marketing"]
    finance = data["datasets"]["finance"]
    rules: list[tuple[str, list[Any]]] = [
        ("sales quantity is positive", [r["order_id"] for r in sales if r["quantity"] <= 0]),
        ("sales unit price is positive", [r["order_id"] for r in sales if r["unit_price"] <= 0]),
        ("sales date is an ISO date", [r["order_id"] for r in sales if not _is_date(r["date"])]),
        ("sales region is known", [r["order_id"] for r in sales if r["region"] not in REGIONS]),
        (
            "campaign spend and leads are not negative",
            [r["campaign_id"] for r in marketing if r["spend"] < 0 or r["leads"] < 0],
        ),
        (
            "campaign region is known",
            [r["campaign_id"] for r in marketing if r["region"] not in REGIONS],
        ),
        (
            "expenses are not negative",
            [(r["month"], r["department"]) for r in finance if r["amount"] < 0],
        ),
    ]
    failed = [(name, bad) for name, bad in rules if bad]
    if failed:
        summary = "; ".join(f"{name}: {bad[:5]}" for name, bad in failed)
        raise ValueError(f"{len(failed)} validation rule(s) failed: {summary}")
    checks = [{"check": name, "passed": not bad, "failures": bad} for name, bad in rules]
    return {**data, "checks": checks}


def _is_date(text: str) -> bool:
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


def enrich(*, data: dict[str, Any]) -> dict[str, Any]:
    """Add derived columns: revenue and month for orders, cost per lead for campaigns."""
    sales = [
        {**r, "revenue": round(r["quantity"] * r["unit_price"], 2), "month": r["date"][:7]}
        for r in data["datasets"]["sales"]
    ]
    marketing = [
        {**r, "cost_per_lead": round(r["spend"] / r["leads"], 2) if r["leads"] else None}
        for r in data["datasets"]["marketing"]
    ]
    datasets = {**data["datasets"], "sales": sales, "marketing": marketing}
    return {**data, "datasets": datasets}


def load(*, data: dict[str, Any], warehouse_path: str) -> dict[str, Any]:
    """Replace the warehouse tables' contents with this run's records, atomically."""
    path = Path(warehouse_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    sets = data["datasets"]
    with closing(sqlite3.connect(path)) as db:
        db.executescript(SCHEMA)
        with db:  # one transaction: all three tables change together, or none does
            db.execute("DELETE FROM sales")
            db.executemany(
                "INSERT INTO sales (order_id, order_date, month, region, product, quantity,"
                " unit_price, revenue) VALUES (:order_id, :date, :month, :region, :product,"
                " :quantity, :unit_price, :revenue)",
                sets["sales"],
            )
            db.execute("DELETE FROM marketing_campaigns")
            db.executemany(
                "INSERT INTO marketing_campaigns VALUES (:campaign_id, :name, :region, :channel,"
                " :month, :spend, :leads, :cost_per_lead)",
                sets["marketing"],
            )
            db.execute("DELETE FROM finance_expenses")
            db.executemany(
                "INSERT INTO finance_expenses VALUES (:month, :department, :amount)",
                sets["finance"],
            )
        tables = {
            table: db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
            for table in ("sales", "marketing_campaigns", "finance_expenses")
        }
    return {"warehouse": str(path.resolve()), "tables": tables}


def _query(warehouse: str, sql: str) -> list[Record]:
    with closing(sqlite3.connect(f"file:{warehouse}?mode=ro", uri=True)) as db:
        db.row_factory = sqlite3.Row
        return [dict(row) for row in db.execute(sql)]


def sales_report(*, warehouse: str) -> dict[str, Any]:
    """Orders, units and revenue: in total, by region, by product and by month."""
    totals = _query(
        warehouse,
        "SELECT COUNT(*) AS orders, SUM(quantity) AS units, ROUND(SUM(revenue), 2) AS revenue"
        " FROM sales",
    )[0]
    grouped = (
        "SELECT {col}, COUNT(*) AS orders, SUM(quantity) AS units,"
        " ROUND(SUM(revenue), 2) AS revenue FROM sales GROUP BY {col} ORDER BY {order}"
    )
    return {
        **totals,
        "by_region": _query(warehouse, grouped.format(col="region", order="revenue DESC")),
        "by_product": _query(
            warehouse,
            "SELECT product, unit_price, SUM(quantity) AS units, ROUND(SUM(revenue), 2) AS revenue"
            " FROM sales GROUP BY product, unit_price ORDER BY revenue DESC",
        ),
        "by_month": _query(warehouse, grouped.format(col="month", order="month")),
    }


def marketing_report(*, warehouse: str) -> dict[str, Any]:
    """Spend, leads and cost per lead by region, joined to that region's sales revenue."""
    totals = _query(
        warehouse,
        "SELECT SUM(spend) AS spend, SUM(leads) AS leads,"
        " ROUND(SUM(spend) / SUM(leads), 2) AS cost_per_lead FROM marketing_campaigns",
    )[0]
    by_region = _query(
        warehouse,
        """
        SELECT m.region, m.spend, m.leads, ROUND(m.spend / m.leads, 2) AS cost_per_lead,
               s.revenue, ROUND(s.revenue / m.spend, 2) AS revenue_per_spend
        FROM (SELECT region, SUM(spend) AS spend, SUM(leads) AS leads
              FROM marketing_campaigns GROUP BY region) AS m
        LEFT JOIN (SELECT region, ROUND(SUM(revenue), 2) AS revenue
                   FROM sales GROUP BY region) AS s USING (region)
        ORDER BY cost_per_lead
        """,
    )
    return {**totals, "by_region": by_region}


def finance_report(*, warehouse: str) -> dict[str, Any]:
    """Operating expenses: total, by month (with month-on-month change) and by department."""
    by_month = _query(
        warehouse,
        "SELECT month, SUM(amount) AS expenses FROM finance_expenses GROUP BY month ORDER BY month",
    )
    for previous, current in itertools.pairwise(by_month):
        change = (current["expenses"] - previous["expenses"]) / previous["expenses"]
        current["change_pct"] = round(change * 100, 1)
    return {
        "expenses": _query(warehouse, "SELECT SUM(amount) AS total FROM finance_expenses")[0][
            "total"
        ],
        "by_month": by_month,
        "by_department": _query(
            warehouse,
            "SELECT department, SUM(amount) AS expenses FROM finance_expenses"
            " GROUP BY department ORDER BY expenses DESC",
        ),
    }
