"""Market research agents for `examples/market_research.yaml`.

Four independent analyses (competitors, customer sentiment, pricing, trends), each reading
one shipped file, and a synthesis that joins them. Everything is computed from the files,
so editing the data changes the findings.
"""

from __future__ import annotations

import json
import statistics
from pathlib import Path
from typing import Any

from plait.agents.classify import classify
from plait.agents.sentiment import analyze_many

# Keywords that tie a review to a theme; a review may touch several themes.
THEMES: dict[str, list[str]] = {
    "delivery": ["late", "arrived", "delay", "delays", "delayed", "shipment", "shipping"],
    "support": ["support", "ticket", "replacement", "training", "trainer", "onboarding"],
    "pricing": ["price", "pricing", "invoice", "cost", "value"],
    "reliability": ["crashed", "crash", "crashes", "bug", "outage"],
    "product": ["app", "dashboard", "calendar", "reporting", "exports", "tracking", "setup"],
}
#: A topic whose index grows or shrinks faster than this share of its mean per month is moving.
TREND_THRESHOLD = 0.02


def _read_json(path: str) -> Any:
    return json.loads(Path(path).read_text(encoding="utf-8"))


def analyze_competitors(*, path: str) -> dict[str, Any]:
    """Feature coverage, gaps and differentiators, concentration and per-rival threat.

    A gap is a feature at least half the rivals offer and we do not; a differentiator is
    one we offer and at most a quarter of them do. Threat = share x feature overlap
    (Jaccard) x rating / 5, so a big rival selling what we sell ranks first.
    """
    data = _read_json(path)
    features: list[str] = data["features"]
    named = [c for c in data["companies"] if c["features"]]
    us = next(c for c in named if c["name"] == data["us"])
    rivals = [c for c in named if c is not us]
    ours = set(us["features"])

    coverage = {f: sum(f in c["features"] for c in rivals) / len(rivals) for f in features}
    gaps = [f for f in features if f not in ours and coverage[f] >= 0.5]
    differentiators = [f for f in features if f in ours and coverage[f] <= 0.25]
    threats = []
    for rival in rivals:
        theirs = set(rival["features"])
        overlap = len(ours & theirs) / len(ours | theirs)
        threat = rival["market_share"] * overlap * rival["rating"] / 5
        threats.append(
            {
                "name": rival["name"],
                "market_share": rival["market_share"],
                "feature_overlap": round(overlap, 3),
                "threat": round(threat, 4),
            }
        )
    threats.sort(key=lambda t: -t["threat"])
    by_share = sorted(named, key=lambda c: -c["market_share"])
    # Herfindahl-Hirschman index over the named vendors (shares in percent).
    hhi = round(sum((c["market_share"] * 100) ** 2 for c in named))
    return {
        "company": us["name"],
        "market_share": us["market_share"],
        "features": [f for f in features if f in ours],
        "share_rank": by_share.index(us) + 1,
        "leader": by_share[0]["name"],
        "rating_rank": sorted(named, key=lambda c: -c["rating"]).index(us) + 1,
        "hhi": hhi,
        "concentration": "high" if hhi > 2500 else "moderate" if hhi > 1500 else "low",
        "coverage": {f: round(v, 2) for f, v in coverage.items()},
        "gaps": gaps,
        "differentiators": differentiators,
        "threats": threats,
    }


def analyze_customer_sentiment(*, path: str) -> dict[str, Any]:
    """VADER over each review (one per line), then which themes the complaints are about."""
    reviews = [line.strip() for line in Path(path).read_text(encoding="utf-8").splitlines()]
    reviews = [r for r in reviews if r]
    scored = analyze_many(texts=reviews)
    themes: dict[str, dict[str, Any]] = {
        name: {"theme": name, "reviews": 0, "negative": 0, "compounds": []} for name in THEMES
    }
    for item in scored["results"]:
        matched = classify(text=item["text"], labels=THEMES)["matches"]
        for name, keywords in matched.items():
            if keywords:
                theme = themes[name]
                theme["reviews"] += 1
                theme["negative"] += item["label"] == "negative"
                theme["compounds"].append(item["compound"])
    table = [
        {
            "theme": t["theme"],
            "reviews": t["reviews"],
            "negative": t["negative"],
            "average_compound": round(statistics.fmean(t["compounds"]), 4),
        }
        for t in themes.values()
        if t["reviews"]
    ]
    table.sort(key=lambda t: (-t["negative"], t["average_compound"]))
    return {
        "reviews": len(reviews),
        "label": scored["label"],
        "average_compound": scored["average_compound"],
        "counts": scored["counts"],
        "themes": table,
        "complaint_themes": [t["theme"] for t in table if t["negative"]],
        "most_negative": min(scored["results"], key=lambda r: r["compound"])["text"],
        "most_positive": max(scored["results"], key=lambda r: r["compound"])["text"],
    }


def analyze_pricing(*, path: str, competitors_path: str) -> dict[str, Any]:
    """Our list price against the market: premium over the median, rank, price per feature.

    The premium is "justified" when our price per feature is no higher than the market's
    median price per feature: customers pay more but get more.
    """
    plans = _read_json(path)["plans"]
    market = _read_json(competitors_path)
    features = {c["name"]: len(c["features"]) for c in market["companies"] if c["features"]}
    ours = next(p for p in plans if p["company"] == market["us"])
    rivals = [p for p in plans if p is not ours]
    median = statistics.median(p["price"] for p in rivals)
    per_feature = {p["company"]: p["price"] / features[p["company"]] for p in plans}
    median_per_feature = statistics.median(per_feature[p["company"]] for p in rivals)
    premium = (ours["price"] - median) / median
    return {
        "our_price": ours["price"],
        "market_median": median,
        "market_range": [min(p["price"] for p in rivals), max(p["price"] for p in rivals)],
        "premium_pct": round(premium * 100, 1),
        "price_rank": 1 + sum(p["price"] > ours["price"] for p in rivals),
        "price_per_feature": round(per_feature[ours["company"]], 2),
        "market_price_per_feature": round(median_per_feature, 2),
        "premium_justified": per_feature[ours["company"]] <= median_per_feature,
        "table": [
            {
                "company": p["company"],
                "price": p["price"],
                "features": features[p["company"]],
                "price_per_feature": round(per_feature[p["company"]], 2),
            }
            for p in sorted(plans, key=lambda p: -p["price"])
        ],
    }


def analyze_trends(*, path: str) -> dict[str, Any]:
    """Least-squares slope of each topic's monthly index, as growth per month of its mean."""
    data = _read_json(path)
    topics = []
    for topic in data["topics"]:
        series = [float(v) for v in topic["index"]]
        slope, r_squared = _linear_fit(series)
        monthly = slope / statistics.fmean(series)
        direction = (
            "rising"
            if monthly > TREND_THRESHOLD
            else "falling"
            if monthly < -TREND_THRESHOLD
            else "flat"
        )
        topics.append(
            {
                "topic": topic["topic"],
                "feature": topic["feature"],
                "direction": direction,
                "monthly_growth_pct": round(monthly * 100, 2),
                "change_pct": round((series[-1] - series[0]) / series[0] * 100, 1),
                "r_squared": round(r_squared, 3),
            }
        )
    topics.sort(key=lambda t: -t["monthly_growth_pct"])
    return {
        "period": [data["months"][0], data["months"][-1]],
        "topics": topics,
        "rising": [t["topic"] for t in topics if t["direction"] == "rising"],
        "falling": [t["topic"] for t in topics if t["direction"] == "falling"],
    }


def _linear_fit(series: list[float]) -> tuple[float, float]:
    """Slope per step and R² of the least-squares line through (0, y0), (1, y1), ..."""
    xs = range(len(series))
    mean_x, mean_y = statistics.fmean(xs), statistics.fmean(series)
    sxx = sum((x - mean_x) ** 2 for x in xs)
    sxy = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, series, strict=True))
    slope = sxy / sxx
    total = sum((y - mean_y) ** 2 for y in series)
    residual = sum(
        (y - (mean_y + slope * (x - mean_x))) ** 2 for x, y in zip(xs, series, strict=True)
    )
    return slope, 1 - residual / total if total else 1.0


def synthesize(
    *,
    competitor: dict[str, Any],
    sentiment: dict[str, Any],
    pricing: dict[str, Any],
    trends: dict[str, Any],
) -> dict[str, Any]:
    """Cross the four analyses into opportunities, risks and recommended actions.

    A rising topic is an opportunity to *lead* when we offer its feature and to *close a
    gap* when rivals do and we do not; a falling topic tied to a feature we sell is a risk,
    as are the themes customers complain about and a premium our features do not justify.
    """
    offered = set(competitor["features"])
    opportunities: list[str] = []
    risks: list[str] = []
    actions: list[str] = []
    for topic in trends["topics"]:
        feature = topic["feature"]
        growth = f"{topic['monthly_growth_pct']:+.1f}%/month"
        if topic["direction"] == "rising" and feature in competitor["gaps"]:
            share = competitor["coverage"][feature]
            opportunities.append(
                f"Close the {feature} gap: {topic['topic']} is rising ({growth}) and "
                f"{share:.0%} of rivals already offer it."
            )
            actions.append(f"Build or partner for {feature}.")
        elif topic["direction"] == "rising" and feature in offered:
            opportunities.append(
                f"Lead on {topic['topic']} ({growth}): we already offer {feature}."
            )
            actions.append(f"Put {feature} at the centre of marketing.")
        elif topic["direction"] == "falling" and feature in offered:
            risks.append(f"Demand for {topic['topic']} is falling ({growth}).")
    for theme in sentiment["themes"]:
        if theme["negative"]:
            risks.append(
                f"Customers complain about {theme['theme']} "
                f"({theme['negative']} of {theme['reviews']} reviews on it are negative)."
            )
    if sentiment["complaint_themes"]:
        actions.append(f"Fix the top complaint theme first: {sentiment['complaint_themes'][0]}.")
    if pricing["premium_pct"] > 0 and not pricing["premium_justified"]:
        risks.append(
            f"Our price is {pricing['premium_pct']:.1f}% above the market median "
            "and our feature set does not justify it."
        )
    elif pricing["premium_pct"] > 0:
        opportunities.append(
            f"The {pricing['premium_pct']:.1f}% price premium is backed by features: "
            f"{pricing['price_per_feature']:.2f} per feature against a market "
            f"{pricing['market_price_per_feature']:.2f}."
        )
    headline = (
        f"{competitor['company']} is #{competitor['share_rank']} by share "
        f"({competitor['market_share']:.0%}) and #{competitor['rating_rank']} by rating; "
        f"customers are {sentiment['label']} on balance "
        f"(average compound {sentiment['average_compound']:+.2f})."
    )
    return {
        "headline": headline,
        "opportunities": opportunities,
        "risks": risks,
        "actions": actions,
        "top_threat": competitor["threats"][0]["name"],
        "method": "offline",
    }


def write_report(
    *, syntheses: list[dict[str, Any] | None], pricing: dict[str, Any], output_path: str
) -> dict[str, Any]:
    """Render whichever synthesis ran (the others were skipped and are None) as Markdown."""
    from plait.agents.report import generate_report

    ran = [s for s in syntheses if s is not None]
    if len(ran) != 1:
        raise ValueError(f"expected exactly one synthesis to have run, got {len(ran)}")
    synthesis = ran[0]
    if "parsed" in synthesis:  # the LLM step's result: its validated JSON reply
        synthesis = synthesis["parsed"]
    report = generate_report(
        title="Market research",
        subtitle=synthesis["headline"],
        output_path=output_path,
        sections=[
            {"heading": "Opportunities", "bullets": synthesis["opportunities"]},
            {"heading": "Risks", "bullets": synthesis["risks"]},
            {"heading": "Recommended actions", "bullets": synthesis["actions"]},
            {"heading": "Pricing", "table": pricing["table"]},
        ],
    )
    return {"path": report["path"], "synthesis": synthesis}
