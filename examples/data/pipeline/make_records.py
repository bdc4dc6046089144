"""Regenerate ``records.json`` for `examples/data_pipeline.yaml` (deterministic: fixed seed).

52 invented fleet vehicles with a year of usage, a driver's note, whether the workshop
found that the vehicle needed unplanned service, and what maintenance cost. The last 8
vehicles are unlabelled: the pipeline's models predict them. Three rows are deliberately
bad (one duplicate, one with a missing mileage, one with negative engine hours) so that
ingestion and cleaning have something to do.

    python examples/data/pipeline/make_records.py
"""

from __future__ import annotations

import json
import random
from pathlib import Path

# Usage profile per vehicle type: (mileage km/yr, engine hours/yr, average load %) means.
PROFILES = {
    "truck": (78_000, 2_600, 78),
    "van": (42_000, 1_500, 55),
    "car": (21_000, 700, 20),
}
REGIONS = ["North", "South", "East", "West"]
FAULT_NOTES = [
    "Brakes squeal and pull to the left under load.",
    "Warning light on the dashboard, engine noise getting worse.",
    "Coolant leak spotted in the depot, temperature gauge high.",
    "Gearbox grinds when changing down, clutch slipping.",
    "Tyre wear uneven and steering vibrates at speed.",
]
FINE_NOTES = [
    "Runs smoothly, no issues reported by the driver.",
    "Clean and reliable this quarter, driver is happy.",
    "Routine check done, everything fine.",
    "No complaints, good fuel economy on the long routes.",
    "Smooth ride, serviced on schedule.",
]


def make_records(seed: int = 7, count: int = 50, unlabelled: int = 8) -> list[dict[str, object]]:
    rng = random.Random(seed)
    types = ["truck", "van", "car"]
    records: list[dict[str, object]] = []
    for n in range(count):
        kind = types[n % 3]
        mileage_mean, hours_mean, load_mean = PROFILES[kind]
        mileage = round(rng.gauss(mileage_mean, mileage_mean * 0.08))
        hours = round(rng.gauss(hours_mean, hours_mean * 0.08))
        load = max(5, min(100, round(rng.gauss(load_mean, 6))))
        faulty = rng.random() < 0.4
        notes = rng.choice(FAULT_NOTES if faulty else FINE_NOTES)
        cost = 150 + 0.012 * mileage + 0.35 * hours + 3 * load + (900 if faulty else 0)
        cost += rng.gauss(0, 60)
        labelled = n < count - unlabelled
        records.append(
            {
                "vehicle_id": f"V-{n + 1:03d}",
                "vehicle_type": kind,
                "region": REGIONS[rng.randrange(4)],
                "mileage_km": mileage,
                "engine_hours": hours,
                "avg_load_pct": load,
                "notes": notes,
                "needs_service": (faulty if labelled else None),
                "maintenance_cost": (round(cost, 2) if labelled else None),
            }
        )
    # Bad rows for ingestion and cleaning to catch.
    records.insert(10, dict(records[9]))  # exact duplicate of V-010
    broken = dict(records[20], vehicle_id="V-901", mileage_km=None)
    negative = dict(records[30], vehicle_id="V-902", engine_hours=-40)
    records.insert(21, broken)
    records.insert(32, negative)
    return records


if __name__ == "__main__":
    target = Path(__file__).with_name("records.json")
    rows = make_records()
    text = "[\n" + ",\n".join("  " + json.dumps(row) for row in rows) + "\n]\n"
    target.write_text(text, encoding="utf-8")
    print(f"wrote {len(rows)} records to {target}")
