"""examples/data_pipeline.yaml: seven stages, three parallel extractors, three models."""

from __future__ import annotations

import json
from pathlib import Path

from example_support import EXAMPLES, direct_upstream, load_module, run_example

from plait.engine import WorkflowEngine

WORKFLOW = "data_pipeline.yaml"
pipeline = load_module(EXAMPLES / "agents" / "pipeline.py")

# The unlabelled vehicles whose driver notes name a fault (see make_records.py).
FAULTY = ["V-044", "V-045", "V-047", "V-048", "V-050"]


def test_extractors_and_models_each_run_side_by_side() -> None:
    extractors = {"text_features", "numerical_features", "categorical_features"}
    for step in extractors:
        assert direct_upstream(WORKFLOW, step) == {"normalize"}
    assert direct_upstream(WORKFLOW, "combine") == extractors | {"normalize"}
    for model in ("classify", "regress", "cluster"):
        assert direct_upstream(WORKFLOW, model) == {"combine"}
    assert direct_upstream(WORKFLOW, "notify") == {"store", "postprocess"}


async def test_bad_rows_are_caught_and_the_models_find_the_known_structure(
    sandbox: Path, engine: WorkflowEngine
) -> None:
    result = await run_example(engine, WORKFLOW)

    assert result["status"] == "completed", result["error"]
    output = result["output"]
    assert [(r["vehicle_id"], r["reason"]) for r in output["rejected"]] == [
        ("V-901", "missing mileage_km"),
        ("V-902", "engine_hours is negative (-40)"),
    ]
    assert output["removed"] == [{"vehicle_id": "V-010", "reason": "duplicate vehicle_id"}]
    assert sorted(output["service_queue"]) == FAULTY
    assert output["metrics"]["classifier_loo_accuracy"] == 1.0
    # Costs were generated linearly from usage (plus noise): least squares recovers them.
    assert output["metrics"]["regression_r_squared"] > 0.95
    coefficients = result["results"]["regress"]["coefficients"]
    assert coefficients["num_mileage_km"] > 0 and coefficients["text_fault_terms"] > 0
    # Usage alone separates trucks, vans and cars.
    clusters = output["clusters"]
    assert sorted(c["dominant_type"] for c in clusters) == ["car", "truck", "van"]
    assert all(c["purity"] == 1.0 for c in clusters)
    assert sum(c["size"] for c in clusters) == 50


async def test_results_are_stored_and_downstream_is_notified(
    sandbox: Path, engine: WorkflowEngine
) -> None:
    result = await run_example(engine, WORKFLOW)

    stored = json.loads((sandbox / ".plait/pipeline/results.json").read_text(encoding="utf-8"))
    assert stored == result["results"]["postprocess"]
    assert len(stored["predictions"]) == 8
    (line,) = (sandbox / ".plait/outbox/notifications.jsonl").read_text().splitlines()
    notification = json.loads(line)
    assert notification["message"].startswith("8 vehicles scored; 5 need service")
    assert notification["results_path"] == str((sandbox / ".plait/pipeline/results.json").resolve())


async def test_the_same_records_give_the_same_predictions(
    sandbox: Path, engine: WorkflowEngine
) -> None:
    first = await run_example(engine, WORKFLOW, results_path=str(sandbox / "a.json"))
    second = await run_example(engine, WORKFLOW, results_path=str(sandbox / "b.json"))

    assert first["results"]["postprocess"] == second["results"]["postprocess"]
    assert (sandbox / "a.json").read_bytes() == (sandbox / "b.json").read_bytes()


def test_the_linear_solver_recovers_an_exact_system() -> None:
    # 2x + y = 5, x - y = 1  ->  x = 2, y = 1
    assert pipeline._solve([[2.0, 1.0], [1.0, -1.0]], [5.0, 1.0]) == [2.0, 1.0]


def test_k_means_separates_two_obvious_groups() -> None:
    rows = [{"vehicle_id": f"v{k}", "vector": [x]} for k, x in enumerate([0, 1, 2, 50, 51, 52])]
    features = {"names": ["num_x"], "rows": rows}

    result = pipeline.cluster(features=features, columns=["num_"], k=2, seed=1)

    groups = result["assignments"]
    assert groups["v0"] == groups["v1"] == groups["v2"]
    assert groups["v3"] == groups["v4"] == groups["v5"] != groups["v0"]
