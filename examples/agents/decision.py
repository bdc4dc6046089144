"""Investment decision agents for `examples/investment_decision.yaml`.

Four analyses each turn one side of an opportunity into a 0-100 score and list the data
they lacked; the synthesis weighs the scores and judges its own confidence from how much
the analyses agree, how complete the data was, and how far the score sits from a decision
threshold. A low-confidence result is never a yes or a no: it asks for more diligence.
"""

from __future__ import annotations

import json
import math
import statistics
from pathlib import Path
from typing import Any

WEIGHTS = {"financial": 0.35, "market": 0.25, "risk": 0.25, "competitive": 0.15}
INVEST_AT = 65.0
PASS_BELOW = 45.0
MIN_CONFIDENCE = 0.6
MOAT_POINTS = 25


def _clamp(value: float, low: float = 0.0, high: float = 100.0) -> float:
    return max(low, min(high, value))


def select_opportunity(*, path: str, opportunity_id: str) -> dict[str, Any]:
    """Gather: the opportunity with that id, and the firm-wide assumptions."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    for opportunity in data["opportunities"]:
        if opportunity["id"] == opportunity_id:
            return {**opportunity, "assumptions": data["assumptions"]}
    known = ", ".join(o["id"] for o in data["opportunities"])
    raise LookupError(f"no opportunity {opportunity_id!r} in {path} (known: {known})")


def analyze_financials(*, opportunity: dict[str, Any]) -> dict[str, Any]:
    """NPV, IRR and payback of the cash flows; scored on IRR over the hurdle, payback, margin."""
    fin = opportunity["financial"]
    rate = opportunity["assumptions"]["discount_rate"]
    hurdle = opportunity["assumptions"]["hurdle_rate"]
    flows = [-float(fin["investment"]), *map(float, fin["cash_flows"])]
    npv = sum(cf / (1 + rate) ** t for t, cf in enumerate(flows))
    irr = _irr(flows)
    payback = _payback(flows)
    horizon = len(flows) - 1
    parts = {
        # IRR at the hurdle scores 50; every 10 points above adds 25.
        "irr": _clamp(50 + (irr - hurdle) * 250) if irr is not None else 0.0,
        "payback": _clamp(100 * (horizon - payback) / horizon) if payback is not None else 0.0,
    }
    missing = []
    if fin.get("gross_margin") is None:
        missing.append("financial.gross_margin")
    else:
        parts["margin"] = _clamp(fin["gross_margin"] / 0.8 * 100)
    return {
        "score": round(statistics.fmean(parts.values()), 1),
        "parts": {k: round(v, 1) for k, v in parts.items()},
        "npv": round(npv),
        "irr": round(irr, 4) if irr is not None else None,
        "payback_years": round(payback, 2) if payback is not None else None,
        "missing": missing,
    }


def _irr(flows: list[float]) -> float | None:
    """The rate where NPV is zero, by bisection on [-99%, 1000%]; None if it has no root."""

    def npv(rate: float) -> float:
        return sum(cf / (1 + rate) ** t for t, cf in enumerate(flows))

    low, high = -0.99, 10.0
    if npv(low) * npv(high) > 0:
        return None
    for _ in range(200):
        mid = (low + high) / 2
        if npv(low) * npv(mid) <= 0:
            high = mid
        else:
            low = mid
    return (low + high) / 2


def _payback(flows: list[float]) -> float | None:
    """Years until cumulative cash turns positive (interpolated within the year)."""
    cumulative = flows[0]
    for year, cf in enumerate(flows[1:], start=1):
        if cumulative + cf >= 0:
            return year - 1 + (-cumulative / cf)
        cumulative += cf
    return None


def analyze_market(*, opportunity: dict[str, Any]) -> dict[str, Any]:
    """Market size (log scale: $10M scores 0, $10B scores 100), growth, obtainable revenue."""
    market = opportunity["market"]
    parts = {
        "size": _clamp((math.log10(market["tam"]) - 7) / 3 * 100),
        "growth": _clamp(50 + market["cagr"] * 200),  # flat 50, +25%/yr 100, -25%/yr 0
    }
    missing = []
    share = market.get("obtainable_share")
    if share is None:
        missing.append("market.obtainable_share")
        obtainable = None
    else:
        obtainable = round(market["tam"] * share)
    return {
        "score": round(statistics.fmean(parts.values()), 1),
        "parts": {k: round(v, 1) for k, v in parts.items()},
        "obtainable_revenue": obtainable,
        "missing": missing,
    }


def assess_risk(*, opportunity: dict[str, Any]) -> dict[str, Any]:
    """Score = chance of escaping every risk's impact: product of (1 - likelihood x impact/5)."""
    risks = opportunity["risks"]
    exposures = [{**r, "exposure": round(r["likelihood"] * r["impact"] / 5, 3)} for r in risks]
    survival = math.prod(1 - r["exposure"] for r in exposures)
    exposures.sort(key=lambda r: -r["exposure"])
    return {
        "score": round(100 * survival, 1),
        "top_risks": [r["risk"] for r in exposures[:2]],
        "exposures": exposures,
        "missing": [] if risks else ["risks"],
    }


def analyze_competition(*, opportunity: dict[str, Any]) -> dict[str, Any]:
    """Moats, our expected position and how crowded the field is."""
    comp = opportunity["competitive"]
    moats = len(comp["moats"])
    position = comp["position"]
    parts = {
        "moats": _clamp(moats * MOAT_POINTS * 2),  # two moats or more: full marks
        "position": _clamp(100 - (position - 1) * 20),
        "crowding": _clamp(100 - comp["competitors"] * 10),
    }
    return {
        "score": round(statistics.fmean(parts.values()), 1),
        "parts": {k: round(v, 1) for k, v in parts.items()},
        "moats": comp["moats"],
        "missing": [],
    }


def synthesize(
    *,
    financial: dict[str, Any],
    market: dict[str, Any],
    risk: dict[str, Any],
    competitive: dict[str, Any],
) -> dict[str, Any]:
    """Weighted score, confidence, and the decision they support.

    confidence = 0.4 x agreement (1 - spread of the four scores / 40)
               + 0.3 x completeness (share of expected data present)
               + 0.3 x margin (distance to the nearest threshold / 15, capped at 1)
    """
    analyses = {"financial": financial, "market": market, "risk": risk, "competitive": competitive}
    scores = {name: a["score"] for name, a in analyses.items()}
    weighted = sum(WEIGHTS[name] * score for name, score in scores.items())
    missing = [field for a in analyses.values() for field in a["missing"]]
    agreement = 1 - min(1.0, statistics.pstdev(scores.values()) / 40)
    completeness = 1 - min(1.0, len(missing) / 4)
    margin = min(1.0, min(abs(weighted - INVEST_AT), abs(weighted - PASS_BELOW)) / 15)
    confidence = 0.4 * agreement + 0.3 * completeness + 0.3 * margin
    if confidence < MIN_CONFIDENCE or PASS_BELOW <= weighted < INVEST_AT:
        decision = "needs more diligence"
    elif weighted >= INVEST_AT:
        decision = "invest"
    else:
        decision = "pass"
    return {
        "decision": decision,
        "score": round(weighted, 1),
        "confidence": round(confidence, 2),
        "scores": scores,
        "weights": WEIGHTS,
        "confidence_parts": {
            "agreement": round(agreement, 2),
            "completeness": round(completeness, 2),
            "margin": round(margin, 2),
        },
        "missing": missing,
        "weakest": min(scores, key=lambda name: scores[name]),
        "strongest": max(scores, key=lambda name: scores[name]),
    }


def recommend(
    *, decision: dict[str, Any], opportunity: dict[str, Any], risk: dict[str, Any]
) -> dict[str, Any]:
    """A recommendation a committee can act on: the verdict, why, and the next steps."""
    name = f"{opportunity['name']} ({opportunity['id']})"
    verdict = decision["decision"]
    why = (
        f"weighted score {decision['score']:.1f}/100 at confidence {decision['confidence']:.2f}; "
        f"strongest: {decision['strongest']}, weakest: {decision['weakest']}"
    )
    if verdict == "invest":
        headline = f"Invest in {name}: {why}."
        next_steps = [
            f"Approve the {opportunity['financial']['investment']:,} investment.",
            f"Track the top risk from day one: {risk['top_risks'][0]}.",
        ]
    elif verdict == "pass":
        headline = f"Pass on {name}: {why}."
        next_steps = [
            f"Record the main reason: {decision['weakest']} score "
            f"{decision['scores'][decision['weakest']]:.0f}/100."
        ]
    else:
        headline = f"More diligence needed on {name} before deciding: {why}."
        next_steps = [f"Obtain the missing data: {field}." for field in decision["missing"]]
        next_steps.append(f"Deepen the {decision['weakest']} analysis; it scored lowest.")
        next_steps.extend(f"Quantify mitigation for: {r}." for r in risk["top_risks"])
    return {"recommendation": verdict, "headline": headline, "next_steps": next_steps}


def present(*, written: list[dict[str, Any] | None]) -> dict[str, Any]:
    """The recommendation that was written: by the rules, or by the LLM step (its JSON)."""
    ran = [w for w in written if w is not None]
    if len(ran) != 1:
        raise ValueError(f"expected exactly one recommendation, got {len(ran)}")
    chosen = ran[0]
    return dict(chosen["parsed"]) if "parsed" in chosen else chosen
