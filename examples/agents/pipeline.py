"""Multi-stage data pipeline agents for `examples/data_pipeline.yaml`.

Ingest -> clean -> normalise -> three feature extractors -> combine -> three models ->
post-process -> store -> notify, over fleet-vehicle records. The models are small, pure
Python and deterministic (nearest centroid, least squares, seeded k-means), so a replayed
run predicts exactly what the first run predicted.
"""

from __future__ import annotations

import json
import math
import os
import random
import re
import statistics
import time
from pathlib import Path
from typing import Any

from plait.agents.sentiment import polarity

Record = dict[str, Any]

# field -> (accepted types, required). Labels may be null: those rows are scored, not trained on.
SCHEMA: dict[str, tuple[tuple[type, ...], bool]] = {
    "vehicle_id": ((str,), True),
    "vehicle_type": ((str,), True),
    "region": ((str,), True),
    "mileage_km": ((int, float), True),
    "engine_hours": ((int, float), True),
    "avg_load_pct": ((int, float), True),
    "notes": ((str,), True),
    "needs_service": ((bool,), False),
    "maintenance_cost": ((int, float), False),
}
NUMERIC = ("mileage_km", "engine_hours", "avg_load_pct")
CATEGORICAL = ("vehicle_type", "region")
FAULT_TERMS = re.compile(
    r"\b(brake|brakes|squeal|warning|noise|leak|coolant|grinds?|slipping|vibrates?|wear)\b"
)


# --- Stage 1: ingestion ------------------------------------------------------------------


def ingest(*, path: str) -> dict[str, Any]:
    """Read the records and reject those that break the schema, saying why."""
    rows = json.loads(Path(path).read_text(encoding="utf-8"))
    valid: list[Record] = []
    rejected: list[dict[str, Any]] = []
    for position, row in enumerate(rows, start=1):
        problem = _schema_problem(row)
        if problem:
            rejected.append(
                {"row": position, "vehicle_id": row.get("vehicle_id"), "reason": problem}
            )
        else:
            valid.append(row)
    return {"records": valid, "received": len(rows), "rejected": rejected}


def _schema_problem(row: Record) -> str | None:
    for field, (types, required) in SCHEMA.items():
        value = row.get(field)
        if value is None:
            if required:
                return f"missing {field}"
            continue
        if (isinstance(value, bool) and bool not in types) or not isinstance(value, types):
            return f"{field} has the wrong type ({type(value).__name__})"
        if field in NUMERIC and isinstance(value, (int, float)) and value < 0:
            return f"{field} is negative ({value})"
    return None


# --- Stage 2: preprocessing ----------------------------------------------------------------


def clean(*, data: dict[str, Any]) -> dict[str, Any]:
    """Drop repeated vehicle ids (keeping the first), tidy text and categories."""
    seen: set[str] = set()
    records: list[Record] = []
    removed: list[dict[str, Any]] = []
    for row in data["records"]:
        if row["vehicle_id"] in seen:
            removed.append({"vehicle_id": row["vehicle_id"], "reason": "duplicate vehicle_id"})
            continue
        seen.add(row["vehicle_id"])
        records.append(
            {
                **row,
                "vehicle_type": row["vehicle_type"].strip().lower(),
                "region": row["region"].strip().lower(),
                "notes": " ".join(row["notes"].split()),
            }
        )
    return {"records": records, "removed": removed}


def normalize(*, data: dict[str, Any]) -> dict[str, Any]:
    """Z-score the numeric fields; the means and deviations are kept to explain the models."""
    records = data["records"]
    stats = {}
    for field in NUMERIC:
        values = [float(r[field]) for r in records]
        stats[field] = {"mean": statistics.fmean(values), "stdev": statistics.pstdev(values) or 1.0}
    normalised = [
        {**r, "z": {f: (r[f] - stats[f]["mean"]) / stats[f]["stdev"] for f in NUMERIC}}
        for r in records
    ]
    return {"records": normalised, "stats": stats}


# --- Stage 3: feature extraction (parallel) -------------------------------------------------


def text_features(*, data: dict[str, Any]) -> dict[str, Any]:
    """From the driver's note: how many fault terms it names, and its tone (VADER)."""
    return {
        "names": ["text_fault_terms", "text_tone"],
        "features": {
            r["vehicle_id"]: [
                float(len(FAULT_TERMS.findall(r["notes"].lower()))),
                polarity(r["notes"])["compound"],
            ]
            for r in data["records"]
        },
    }


def numerical_features(*, data: dict[str, Any]) -> dict[str, Any]:
    """The normalised usage figures."""
    return {
        "names": [f"num_{f}" for f in NUMERIC],
        "features": {r["vehicle_id"]: [r["z"][f] for f in NUMERIC] for r in data["records"]},
    }


def categorical_features(*, data: dict[str, Any]) -> dict[str, Any]:
    """One-hot columns for each category seen (sorted, so column order is stable)."""
    levels = {f: sorted({r[f] for r in data["records"]}) for f in CATEGORICAL}
    names = [f"cat_{f}_{level}" for f in CATEGORICAL for level in levels[f]]
    return {
        "names": names,
        "features": {
            r["vehicle_id"]: [float(r[f] == level) for f in CATEGORICAL for level in levels[f]]
            for r in data["records"]
        },
    }


def combine(
    *,
    text: dict[str, Any],
    numerical: dict[str, Any],
    categorical: dict[str, Any],
    data: dict[str, Any],
) -> dict[str, Any]:
    """One row per vehicle: its feature vector (text, numeric, categorical) and its labels."""
    parts = (text, numerical, categorical)
    return {
        "names": [name for part in parts for name in part["names"]],
        "rows": [
            {
                "vehicle_id": r["vehicle_id"],
                "vector": [v for part in parts for v in part["features"][r["vehicle_id"]]],
                "needs_service": r.get("needs_service"),
                "maintenance_cost": r.get("maintenance_cost"),
            }
            for r in data["records"]
        ],
    }


def _select(features: dict[str, Any], columns: list[str]) -> tuple[list[str], list[list[float]]]:
    """The columns whose names start with one of the given prefixes."""
    keep = [k for k, name in enumerate(features["names"]) if name.startswith(tuple(columns))]
    if not keep:
        raise ValueError(f"no feature column starts with any of {columns}")
    names = [features["names"][k] for k in keep]
    return names, [[row["vector"][k] for k in keep] for row in features["rows"]]


# --- Stage 4: models (parallel) ------------------------------------------------------------


def classify(*, features: dict[str, Any], columns: list[str]) -> dict[str, Any]:
    """Nearest centroid: predict `needs_service` for unlabelled rows; leave-one-out accuracy.

    Distances are measured in units of each feature's pooled within-class spread, so a
    feature that separates the classes cleanly (a fault named in the note) outweighs ones
    that merely vary a lot (mileage differs by vehicle type, not by fault).
    """
    _, vectors = _select(features, columns)
    rows = features["rows"]
    labelled = [
        (v, r["needs_service"])
        for v, r in zip(vectors, rows, strict=True)
        if r["needs_service"] is not None
    ]
    model = _fit_centroids(labelled)
    correct = 0
    for k, (vector, label) in enumerate(labelled):
        held_out = _fit_centroids(labelled[:k] + labelled[k + 1 :])
        correct += _nearest(held_out, vector) == label
    predictions = {
        r["vehicle_id"]: _nearest(model, v)
        for v, r in zip(vectors, rows, strict=True)
        if r["needs_service"] is None
    }
    return {
        "model": "nearest_centroid",
        "trained_on": len(labelled),
        "loo_accuracy": round(correct / len(labelled), 4),
        "predictions": predictions,
    }


Centroids = tuple[dict[Any, list[float]], list[float]]
"""Class centroids, and the per-feature spread that distances are divided by."""

MIN_SPREAD = 0.1  # keeps a feature that is constant within each class from dividing by zero


def _fit_centroids(labelled: list[tuple[list[float], Any]]) -> Centroids:
    groups: dict[Any, list[list[float]]] = {}
    for vector, label in labelled:
        groups.setdefault(label, []).append(vector)
    centroids = {
        label: [statistics.fmean(col) for col in zip(*vs, strict=True)]
        for label, vs in groups.items()
    }
    width = len(labelled[0][0])
    spread = []
    for j in range(width):
        squares = sum((v[j] - centroids[label][j]) ** 2 for v, label in labelled)
        spread.append(max(MIN_SPREAD, math.sqrt(squares / len(labelled))))
    return centroids, spread


def _nearest(model: Centroids, vector: list[float]) -> Any:
    centroids, spread = model

    def distance(label: Any) -> tuple[float, str]:
        centre = centroids[label]
        scaled = sum(((x - c) / s) ** 2 for x, c, s in zip(vector, centre, spread, strict=True))
        return scaled, str(label)

    return min(centroids, key=distance)


def regress(*, features: dict[str, Any], columns: list[str]) -> dict[str, Any]:
    """Ordinary least squares (normal equations) predicting `maintenance_cost`."""
    names, vectors = _select(features, columns)
    rows = features["rows"]
    train = [
        ([1.0, *v], r["maintenance_cost"])
        for v, r in zip(vectors, rows, strict=True)
        if r["maintenance_cost"] is not None
    ]
    width = len(train[0][0])
    xtx = [[sum(x[i] * x[j] for x, _ in train) for j in range(width)] for i in range(width)]
    xty = [sum(x[i] * y for x, y in train) for i in range(width)]
    coefficients = _solve(xtx, xty)
    fitted = [sum(c * xi for c, xi in zip(coefficients, x, strict=True)) for x, _ in train]
    actual = [y for _, y in train]
    mean_y = statistics.fmean(actual)
    residual = sum((y - f) ** 2 for y, f in zip(actual, fitted, strict=True))
    total = sum((y - mean_y) ** 2 for y in actual)
    predictions = {
        r["vehicle_id"]: round(
            sum(c * xi for c, xi in zip(coefficients, [1.0, *v], strict=True)), 2
        )
        for v, r in zip(vectors, rows, strict=True)
        if r["maintenance_cost"] is None
    }
    return {
        "model": "least_squares",
        "trained_on": len(train),
        "r_squared": round(1 - residual / total, 4),
        "rmse": round(math.sqrt(residual / len(train)), 2),
        "coefficients": {"intercept": round(coefficients[0], 3)}
        | {name: round(c, 3) for name, c in zip(names, coefficients[1:], strict=True)},
        "predictions": predictions,
    }


def _solve(a: list[list[float]], b: list[float]) -> list[float]:
    """Gauss-Jordan elimination with partial pivoting (the systems here are tiny)."""
    n = len(b)
    m = [[*row, rhs] for row, rhs in zip(a, b, strict=True)]
    for col in range(n):
        pivot = max(range(col, n), key=lambda r: abs(m[r][col]))
        if abs(m[pivot][col]) < 1e-12:
            raise ValueError("the features are collinear; drop a column (e.g. one-hot levels)")
        m[col], m[pivot] = m[pivot], m[col]
        for r in range(n):
            if r != col:
                factor = m[r][col] / m[col][col]
                m[r] = [x - factor * y for x, y in zip(m[r], m[col], strict=True)]
    return [m[i][n] / m[i][i] for i in range(n)]


def cluster(
    *, features: dict[str, Any], columns: list[str], k: int = 3, seed: int = 0
) -> dict[str, Any]:
    """K-means with k-means++ seeding from a fixed seed: same data, same clusters."""
    _, vectors = _select(features, columns)
    rng = random.Random(seed)
    centres = [vectors[rng.randrange(len(vectors))]]
    while len(centres) < k:
        weights = [min(math.dist(v, c) ** 2 for c in centres) for v in vectors]
        centres.append(rng.choices(vectors, weights=weights)[0])
    assignment: list[int] = []
    for _ in range(100):
        new = [min(range(k), key=lambda c: math.dist(v, centres[c])) for v in vectors]
        if new == assignment:
            break
        assignment = new
        for c in range(k):
            members = [v for v, a in zip(vectors, assignment, strict=True) if a == c]
            if members:
                centres[c] = [statistics.fmean(col) for col in zip(*members, strict=True)]
    inertia = sum(math.dist(v, centres[a]) ** 2 for v, a in zip(vectors, assignment, strict=True))
    return {
        "model": "k_means",
        "k": k,
        "inertia": round(inertia, 4),
        "assignments": {
            r["vehicle_id"]: a for r, a in zip(features["rows"], assignment, strict=True)
        },
    }


# --- Stages 5-7: post-processing, storage, notification -----------------------------------


def postprocess(
    *,
    classification: dict[str, Any],
    regression: dict[str, Any],
    clustering: dict[str, Any],
    data: dict[str, Any],
) -> dict[str, Any]:
    """Join the three models per vehicle and describe each cluster by its members' usage."""
    by_id = {r["vehicle_id"]: r for r in data["records"]}
    clusters = []
    for c in range(clustering["k"]):
        members = [by_id[v] for v, a in clustering["assignments"].items() if a == c]
        types = [m["vehicle_type"] for m in members]
        dominant = max(sorted(set(types)), key=types.count)
        clusters.append(
            {
                "cluster": c,
                "size": len(members),
                "dominant_type": dominant,
                "purity": round(types.count(dominant) / len(members), 3),
                "mean_mileage_km": round(statistics.fmean(m["mileage_km"] for m in members)),
                "mean_load_pct": round(statistics.fmean(m["avg_load_pct"] for m in members), 1),
            }
        )
    predictions = [
        {
            "vehicle_id": vid,
            "vehicle_type": by_id[vid]["vehicle_type"],
            "needs_service": needs,
            "predicted_cost": regression["predictions"][vid],
            "cluster": clustering["assignments"][vid],
        }
        for vid, needs in sorted(classification["predictions"].items())
    ]
    service = sorted(
        (p for p in predictions if p["needs_service"]), key=lambda p: -p["predicted_cost"]
    )
    return {
        "predictions": predictions,
        "service_queue": [p["vehicle_id"] for p in service],
        "clusters": clusters,
        "metrics": {
            "classifier_loo_accuracy": classification["loo_accuracy"],
            "regression_r_squared": regression["r_squared"],
            "regression_rmse": regression["rmse"],
            "cluster_inertia": clustering["inertia"],
        },
    }


def store(*, results: dict[str, Any], path: str) -> dict[str, Any]:
    """Write the results as JSON, atomically (a reader never sees a half-written file)."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    temporary.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    os.replace(temporary, target)
    return {"path": str(target.resolve()), "predictions": len(results["predictions"])}


def notify(*, stored: dict[str, Any], results: dict[str, Any], outbox_path: str) -> dict[str, Any]:
    """Tell downstream systems that new predictions exist: one JSON line in an outbox file."""
    queue = results["service_queue"]
    message = (
        f"{stored['predictions']} vehicles scored; {len(queue)} need service"
        + (f" ({', '.join(queue)})" if queue else "")
        + f". Results: {stored['path']}"
    )
    entry = {
        "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "topic": "pipeline.results",
        "message": message,
        "results_path": stored["path"],
    }
    outbox = Path(outbox_path)
    outbox.parent.mkdir(parents=True, exist_ok=True)
    with outbox.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(entry) + "\n")
    return {"message": message, "outbox": str(outbox.resolve())}
