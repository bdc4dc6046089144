"""Content classification: a moderation check and a generic keyword classifier.

``moderate`` combines a small shipped lexicon (toxicity, threat, spam) with VADER's tone.
It is a triage aid, not a safety system: its confidence is built so that only clear-cut
cases exceed 0.95, leaving everything else for a person.
"""

from __future__ import annotations

import math
import re
from typing import Any

from plait.agents._validate import require_str
from plait.agents.sentiment import polarity

# Evidence is added on a log-odds scale, then squashed into a probability of "unsafe".
# Calibration: plain text -> p(unsafe) ~ 0.01; one borderline term or clearly negative tone
# alone -> 0.07-0.5 (ambiguous); one severe term -> p > 0.97; several -> ~1.
BASE_LOG_ODDS = -4.5
SEVERE_WEIGHT = 8.0
BORDERLINE_WEIGHT = 2.5
TONE_WEIGHT = 4.0  # multiplied by how negative VADER's compound is (0..1)
CLEAR_CUT = 0.95


def _terms(listing: str) -> tuple[str, ...]:
    return tuple(term.strip() for term in listing.split(",") if term.strip())


# Deliberately short and PG: extend per deployment, keep phrases specific enough that
# ordinary text does not trip them ("free" alone is not spam; "free money" is).
LEXICON: dict[str, dict[str, tuple[str, ...]]] = {
    "toxicity": {
        "severe": _terms(
            """idiot, idiots, moron, morons, imbecile, shut up, loser, losers, worthless, scum,
            hate you, nobody likes you, piece of garbage"""
        ),
        "borderline": _terms(
            """stupid, dumb, crap, sucks, hate, ridiculous, useless, clueless, incompetent,
            garbage, trash, pathetic, lame"""
        ),
    },
    "threat": {
        "severe": _terms(
            """kill you, hurt you, i know where you live, watch your back, beat you up,
            you will regret, you'll regret, make you pay, come after you, destroy you,
            burn it down"""
        ),
        "borderline": _terms("or else, you'll be sorry, last warning, you have been warned"),
    },
    "spam": {
        "severe": _terms(
            """click here, buy now, free money, act now, limited time offer, work from home,
            100% free, risk-free, double your money, claim your prize, you have won,
            you've won, miracle cure, crypto giveaway, dm me for"""
        ),
        "borderline": _terms(
            """discount code, promo code, giveaway, winner, subscribe to my,
            check out my channel, visit my profile, guaranteed, prize, cheap"""
        ),
    },
}

_URL = re.compile(r"https?://\S+|www\.\S+", re.IGNORECASE)


def _term_pattern(term: str) -> re.Pattern[str]:
    body = r"\s+".join(re.escape(part) for part in term.split())
    return re.compile(rf"(?<![a-z0-9]){body}(?![a-z0-9])")


_PATTERNS: list[tuple[str, str, str, re.Pattern[str]]] = [
    (category, severity, term, _term_pattern(term))
    for category, tiers in LEXICON.items()
    for severity, terms in tiers.items()
    for term in terms
]


def moderate(*, content: str) -> dict[str, Any]:
    """Judge whether user content is safe to publish, with a calibrated confidence.

    Returns ``{"is_safe", "confidence", "labels", "reasons", "unsafe_probability",
    "sentiment"}``. ``confidence`` is the probability of the chosen verdict (>= 0.5);
    clear-cut safe or unsafe content exceeds 0.95, while a single borderline term, a
    strongly negative tone or a link keeps it at or below 0.95 so a person can review it.
    ``labels`` are the categories that fired (``toxicity``, ``threat``, ``spam``,
    ``negative_tone``); ``reasons`` say why in words.
    """
    require_str(content, "content")
    normalised = re.sub(r"\s+", " ", content.lower().replace("’", "'"))
    log_odds = BASE_LOG_ODDS
    labels: list[str] = []
    reasons: list[str] = []

    matched_spans: list[tuple[int, int]] = []
    for category, severity, term, pattern in _PATTERNS:
        # An occurrence inside an earlier match ("hate" in "hate you") is not new evidence.
        found = next(
            (
                m
                for m in pattern.finditer(normalised)
                if not any(s <= m.start() and m.end() <= e for s, e in matched_spans)
            ),
            None,
        )
        if found is None:
            continue
        matched_spans.append(found.span())
        log_odds += SEVERE_WEIGHT if severity == "severe" else BORDERLINE_WEIGHT
        if category not in labels:
            labels.append(category)
        reasons.append(f'{category} ({severity}): "{term}"')

    links = len(_URL.findall(content))
    if links:
        log_odds += BORDERLINE_WEIGHT * min(links, 2)
        if "spam" not in labels:
            labels.append("spam")
        reasons.append(f"spam (borderline): {links} link(s)")

    letters = [c for c in content if c.isalpha()]
    if len(letters) >= 12 and sum(c.isupper() for c in letters) / len(letters) > 0.7:
        log_odds += BORDERLINE_WEIGHT
        if "toxicity" not in labels:
            labels.append("toxicity")
        reasons.append("toxicity (borderline): written in capitals (shouting)")

    compound = polarity(content)["compound"] if content.strip() else 0.0
    if compound < 0:
        log_odds += TONE_WEIGHT * -compound
        if compound <= -0.5:
            labels.append("negative_tone")
            reasons.append(f"strongly negative tone (VADER compound {compound:+.2f})")

    unsafe = 1.0 / (1.0 + math.exp(-log_odds))
    is_safe = unsafe < 0.5
    if not reasons:
        reasons.append("no unsafe terms, links or hostile tone found")
    return {
        "is_safe": is_safe,
        "confidence": round(1.0 - unsafe if is_safe else unsafe, 4),
        "labels": labels,
        "reasons": reasons,
        "unsafe_probability": round(unsafe, 4),
        "sentiment": compound,
    }


def classify(
    *, text: str, labels: dict[str, list[str]], default: str | None = None
) -> dict[str, Any]:
    """Assign the label whose keywords occur most often in ``text`` (whole words, any case).

    ``confidence`` is the Laplace-smoothed share of keyword hits won by the best label,
    ``(hits + 1) / (all hits + number of labels)``, so one stray hit is not treated as
    certainty. With no hits the label is ``default`` and confidence 0.0; ties go to the
    label listed first.

    Returns ``{"label", "confidence", "scores": {label: hits}, "matches": {label: [keyword]}}``.
    """
    require_str(text, "text")
    if not isinstance(labels, dict) or not labels:
        raise ValueError(
            f"labels must be a non-empty mapping of label -> list of keywords, got {labels!r:.80}"
        )
    normalised = re.sub(r"\s+", " ", text.lower().replace("’", "'"))
    scores: dict[str, int] = {}
    matches: dict[str, list[str]] = {}
    for label, keywords in labels.items():
        if isinstance(keywords, str) or not isinstance(keywords, list):
            raise ValueError(
                f"keywords for label {label!r} must be a list of strings, got {keywords!r:.80}"
            )
        scores[label] = 0
        matches[label] = []
        for keyword in keywords:
            if not isinstance(keyword, str) or not keyword.strip():
                raise ValueError(f"label {label!r} has an empty or non-string keyword {keyword!r}")
            hits = len(_term_pattern(keyword.lower().replace("’", "'")).findall(normalised))
            if hits:
                scores[label] += hits
                matches[label].append(keyword)
    total = sum(scores.values())
    if total == 0:
        return {"label": default, "confidence": 0.0, "scores": scores, "matches": matches}
    best = max(scores, key=lambda name: scores[name])  # first listed wins ties
    confidence = (scores[best] + 1) / (total + len(labels))
    return {
        "label": best,
        "confidence": round(confidence, 4),
        "scores": scores,
        "matches": matches,
    }
