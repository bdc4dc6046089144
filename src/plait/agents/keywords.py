"""Keyphrase extraction with RAKE (Rose et al., 2010), using a shipped stop-word list.

Candidate phrases are runs of words between stop words and punctuation. Each word scores
its *degree* (how many words it co-occurs with inside candidates, itself included), and a
phrase scores the sum of its words. The paper's alternative, degree/frequency, lets a
single long one-off phrase outrank the document's recurring topics; degree rewards both
frequency and co-occurrence, which suits short business documents better.
"""

from __future__ import annotations

import re
from typing import Any

from plait.agents._stopwords import STOP_WORDS
from plait.agents._validate import require_str

# Words that are not stop words in general but make poor keyphrase boundaries-crossers:
# reporting verbs and generic qualifiers ("revenue grew strongly" -> "revenue").
_RAKE_EXTRA_STOPS = frozenset(
    """
    said says say grew grow grows rose rise rises fell fall falls increased increase increases
    decreased decrease decreases remained remain remains saw see seen came come comes went go
    goes going took take takes taken gave give gives given began begin begins keep keeps kept
    find found put including include includes included across along toward towards behind
    ahead first second third last next new good great better best high higher highest low
    lower lowest large larger small smaller big strong strongly significant significantly
    overall key main major several various particularly especially already soon recently
    compared thanks around nearly almost roughly approximately expect expected expects plan
    plans planned continue continued continues helped help helps led lead leads told tell
    tells reached reach reaches dropped drop drops signed sign shipped ship launched launch
    opened open delivered deliver improved improve improves worsened worsen made makes
    enabled enable enables received receive receives revealed reveal changed change changes
    bring brings brought restore restores restored lets let allowed allow allows became become
    becomes showed show shows want wants wanted
    """.split()
)
_STOPS = STOP_WORDS | _RAKE_EXTRA_STOPS
# Words, or single punctuation marks / line breaks, which end a candidate phrase.
_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9'’&-]*|[^\sA-Za-z0-9]|\n")


def extract_keywords(*, text: str, top_n: int = 10, max_words: int = 3) -> dict[str, Any]:
    """The ``top_n`` highest-scoring keyphrases of at most ``max_words`` words.

    Returns ``{"keywords": [{"phrase", "score", "count"}], "phrases": [str]}``, best first;
    phrases are lower-cased, ``count`` is how often the phrase occurs, and ``phrases`` is the
    same ranking as plain strings for easy templating. Ties break by count, then alphabetically.
    """
    require_str(text, "text")
    for name, value in (("top_n", top_n), ("max_words", max_words)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")

    candidates = [
        chunk for phrase in _candidate_phrases(text) for chunk in _chunks(phrase, max_words)
    ]
    degree: dict[str, int] = {}
    for phrase in candidates:
        for word in phrase:
            degree[word] = degree.get(word, 0) + len(phrase)
    counts: dict[tuple[str, ...], int] = {}
    for phrase in candidates:
        counts[phrase] = counts.get(phrase, 0) + 1

    ranked = sorted(
        (
            (sum(degree[w] for w in phrase), count, " ".join(phrase))
            for phrase, count in counts.items()
        ),
        key=lambda item: (-item[0], -item[1], item[2]),
    )[:top_n]
    keywords = [
        {"phrase": phrase, "score": score, "count": count} for score, count, phrase in ranked
    ]
    return {"keywords": keywords, "phrases": [k["phrase"] for k in keywords]}


def _candidate_phrases(text: str) -> list[tuple[str, ...]]:
    phrases: list[tuple[str, ...]] = []
    current: list[str] = []
    for token in _TOKEN.findall(text):
        word = token.lower().replace("’", "'").strip("'-")
        if word and any(c.isalpha() for c in word) and word not in _STOPS and len(word) > 1:
            current.append(word)
            continue
        if current:
            phrases.append(tuple(current))
            current = []
    if current:
        phrases.append(tuple(current))
    return phrases


def _chunks(phrase: tuple[str, ...], size: int) -> list[tuple[str, ...]]:
    """Split over-long runs instead of dropping them, so their words still count."""
    return [phrase[i : i + size] for i in range(0, len(phrase), size)]
