"""Agents for the __NAME__ decision workflow: plain functions, keyword arguments, JSON out.

plait calls each with the step's ``inputs`` as keyword arguments and stores what it
returns; a raised exception fails the step (after its retries). They are pure: the same
facts always give the same decision, which keeps runs testable and replayable.
"""

from __future__ import annotations

from itertools import combinations
from typing import Any

CRITERIA = ("cost", "benefit", "risk")


def gather(*, question: str, budget: float, candidates: list[dict[str, Any]]) -> dict[str, Any]:
    """Collect and check the facts the decision rests on."""
    for index, candidate in enumerate(candidates):
        missing = [k for k in ("name", *CRITERIA) if k not in candidate]
        if missing:
            raise ValueError(f"candidate {index} lacks {', '.join(missing)}: {candidate}")
    if not candidates:
        raise ValueError("there is nothing to decide between: give at least one candidate")
    return {"question": question, "budget": budget, "candidates": candidates}


def generate_options(*, info: dict[str, Any]) -> dict[str, Any]:
    """Every single candidate and every pair that fits the budget.

    A pair costs the sum, delivers 80% of the summed benefit (the two overlap) and carries
    the larger of the two risks.
    """
    candidates = info["candidates"]
    options = [{**c, "parts": [c["name"]]} for c in candidates]
    for a, b in combinations(candidates, 2):
        options.append(
            {
                "name": f"{a['name']} + {b['name']}",
                "cost": a["cost"] + b["cost"],
                "benefit": round(0.8 * (a["benefit"] + b["benefit"]), 2),
                "risk": max(a["risk"], b["risk"]),
                "parts": [a["name"], b["name"]],
            }
        )
    feasible = [o for o in options if o["cost"] <= info["budget"]]
    rejected = [o["name"] for o in options if o["cost"] > info["budget"]]
    if not feasible:
        raise ValueError(f"no option fits the budget of {info['budget']:,}")
    return {"options": feasible, "rejected": rejected}


def evaluate(*, options: list[dict[str, Any]], criterion: str, prefer: str) -> dict[str, Any]:
    """Score every option 0-1 on one criterion (min-max scaled; 1 is best)."""
    values = [float(o[criterion]) for o in options]
    low, high = min(values), max(values)
    scores = {}
    for option, value in zip(options, values, strict=True):
        scaled = (value - low) / (high - low) if high > low else 1.0
        scores[option["name"]] = round(scaled if prefer == "high" else 1 - scaled, 4)
    return {"criterion": criterion, "scores": scores}


def decide(*, evaluations: list[dict[str, Any]], weights: dict[str, float]) -> dict[str, Any]:
    """Weighted sum per option; confidence grows with the winner's lead over the runner-up."""
    total_weight = sum(weights[e["criterion"]] for e in evaluations)
    names = list(evaluations[0]["scores"])
    totals = {
        name: sum(weights[e["criterion"]] * e["scores"][name] for e in evaluations) / total_weight
        for name in names
    }
    ranking = sorted(names, key=lambda n: (-totals[n], n))
    lead = totals[ranking[0]] - totals[ranking[1]] if len(ranking) > 1 else 1.0
    return {
        "choice": ranking[0],
        "confidence": round(min(1.0, 0.5 + 2 * lead), 2),
        "ranking": [{"option": n, "score": round(totals[n], 4)} for n in ranking],
    }


def recommend(*, question: str, decision: dict[str, Any], rejected: list[str]) -> dict[str, Any]:
    """Say what to do, how sure we are, and what would change the answer."""
    ranking = decision["ranking"]
    recommendations = [f"{question} Choose {decision['choice']}."]
    if decision["confidence"] < 0.7 and len(ranking) > 1:
        recommendations.append(
            f"The lead over {ranking[1]['option']} is small: check both with a short trial."
        )
    if rejected:
        recommendations.append(f"Over budget, not considered: {', '.join(rejected)}.")
    return {"recommendations": recommendations, "confidence": decision["confidence"]}
