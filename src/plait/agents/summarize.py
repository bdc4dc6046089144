"""Extractive summarization with TextRank (Mihalcea & Tarau, 2004).

Sentences are graph nodes, edges are TF-IDF cosine similarities, and PageRank finds the
sentences most "agreed with" by the rest of the text. Pure Python and deterministic: the
same text always yields the same summary, which keeps workflow replays reproducible.
Cost is quadratic in the number of sentences, fine for documents up to a few thousand.
"""

from __future__ import annotations

import math
import re
from typing import Any

from plait.agents._stopwords import STOP_WORDS
from plait.agents._validate import require_str
from plait.agents.text import split_sentences

DAMPING = 0.85
_TOKEN = re.compile(r"[a-z0-9]+(?:['’][a-z]+)?")
_TERMINAL = re.compile(r"[.!?…][\"'”’)\]]*$")


def summarize(*, text: str, num_sentences: int = 3) -> dict[str, Any]:
    """Pick the ``num_sentences`` most central sentences, returned in document order.

    Headings, bullets without a full stop and table rows are skipped when the text has
    enough real sentences (ending in ``.``, ``!`` or ``?``) to fill the summary.

    Returns ``{"summary": str, "sentences": [str], "indices": [int], "scores": [float],
    "total_sentences": int}``: ``indices`` point into ``split_sentences(text)`` and
    ``scores`` are the TextRank scores of the chosen sentences.
    """
    require_str(text, "text")
    if isinstance(num_sentences, bool) or not isinstance(num_sentences, int) or num_sentences < 1:
        raise ValueError(f"num_sentences must be a positive integer, got {num_sentences!r}")

    all_sentences = split_sentences(text)
    pool = [i for i, s in enumerate(all_sentences) if _TERMINAL.search(s) and len(s.split()) >= 3]
    if len(pool) < num_sentences:
        pool = list(range(len(all_sentences)))

    scores = textrank([all_sentences[i] for i in pool])
    ranked = sorted(range(len(pool)), key=lambda k: (-scores[k], k))[:num_sentences]
    chosen = sorted(ranked)
    picked = [all_sentences[pool[k]] for k in chosen]
    return {
        "summary": " ".join(picked),
        "sentences": picked,
        "indices": [pool[k] for k in chosen],
        "scores": [round(scores[k], 6) for k in chosen],
        "total_sentences": len(all_sentences),
    }


def textrank(
    sentences: list[str], *, tolerance: float = 1e-9, max_iterations: int = 200
) -> list[float]:
    """TextRank score of each sentence (they sum to 1); exposed for custom rankers."""
    n = len(sentences)
    if n == 0:
        return []
    vectors = _tfidf_vectors([_terms(s) for s in sentences])
    weights = [[0.0] * n for _ in range(n)]
    for i in range(n):
        for j in range(i + 1, n):
            weights[i][j] = weights[j][i] = _cosine(vectors[i], vectors[j])
    out_weight = [sum(row) for row in weights]
    # incoming[i]: (j, share of j's score that flows to i), precomputed once.
    incoming = [
        [(j, weights[j][i] / out_weight[j]) for j in range(n) if weights[j][i] > 0.0]
        for i in range(n)
    ]
    dangling_nodes = [j for j in range(n) if out_weight[j] == 0.0]

    scores = [1.0 / n] * n
    for _ in range(max_iterations):
        # Sentences sharing no words with any other spread their score evenly.
        dangling = sum(scores[j] for j in dangling_nodes) / n
        new = [
            (1 - DAMPING) / n + DAMPING * (dangling + sum(share * scores[j] for j, share in edges))
            for edges in incoming
        ]
        delta = sum(abs(a - b) for a, b in zip(new, scores, strict=True))
        scores = new
        if delta < tolerance:
            break
    return scores


def _terms(sentence: str) -> list[str]:
    return [
        _stem(token)
        for token in _TOKEN.findall(sentence.lower())
        if token not in STOP_WORDS and len(token) > 1
    ]


def _stem(word: str) -> str:
    """Fold plurals together ("margins" ~ "margin") so overlap is not missed; nothing more."""
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def _tfidf_vectors(documents: list[list[str]]) -> list[dict[str, float]]:
    n = len(documents)
    document_frequency: dict[str, int] = {}
    for terms in documents:
        for term in set(terms):
            document_frequency[term] = document_frequency.get(term, 0) + 1
    vectors: list[dict[str, float]] = []
    for terms in documents:
        counts: dict[str, int] = {}
        for term in terms:
            counts[term] = counts.get(term, 0) + 1
        vectors.append(
            {
                term: count * (math.log((1 + n) / (1 + document_frequency[term])) + 1)
                for term, count in counts.items()
            }
        )
    return vectors


def _cosine(a: dict[str, float], b: dict[str, float]) -> float:
    if len(a) > len(b):
        a, b = b, a
    dot = sum(weight * b[term] for term, weight in a.items() if term in b)
    if dot == 0.0:
        return 0.0
    norm = math.sqrt(sum(w * w for w in a.values())) * math.sqrt(sum(w * w for w in b.values()))
    return dot / norm
