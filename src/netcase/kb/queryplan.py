"""How a typed query becomes a Whoosh query, and how its hits are re-ranked.

Scoring every case that holds a common word is what makes a query slow on a
large knowledge base, and it adds little: a word in a third of the cases says
little about which one is meant. So words are split by how many cases hold
them. Rare words (and identifiers) decide which cases are candidates; common
words only add to the score of those candidates. A query of common words only
looks in the short fields (titles, symptoms, tags), where a match means most.

The bonus for matching more of the query's words is applied afterwards, to
the best candidates only: each hit's score is multiplied by one plus the
share of the query's words it holds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from whoosh.query import AndMaybe, Or, Query, Term

from netcase.kb.text import CJK_WORD

# Field weights: a word in the title counts more than one in the symptoms, and so on.
FIELD_BOOSTS = {"title": 4.0, "symptoms": 2.5, "tags": 2.0, "body": 1.0}
TEXT_FIELDS = ("title", "symptoms", "body")
SHORT_FIELDS = ("title", "symptoms", "tags")
ALL_FIELDS = (*TEXT_FIELDS, "tags")
RARE_SHARE = 0.01
"""A word held by at most this share of the cases is rare."""
RARE_MIN_CASES = 50
"""A word held by at most this many cases is rare, however few cases there are."""
NAME_BOOST = 3.0
TYPO_BOOST = 0.7
RERANK_DEPTH = 60
"""How many of the best candidates get the coverage bonus."""


@dataclass
class QueryPlan:
    """The Whoosh query to run, and each query word's (field, text) pairs."""

    query: Query
    words: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    broader: Query | None = None
    """A query over every field, for when ``query`` finds too few cases."""


def plan(terms: tuple[str, ...], names: tuple[str, ...], reader: Any) -> QueryPlan:
    """Build the Whoosh query for a parsed query's terms and identifiers."""
    limit = max(RARE_MIN_CASES, int(reader.doc_count() * RARE_SHARE))
    words: dict[str, list[tuple[str, str]]] = {}
    rare: list[Query] = []
    common: list[tuple[int, str]] = []
    for term in _without_covered_parts(terms, names, reader):
        spellings = [term, *_typo_variants(reader, term)]
        words[term] = [(f, s) for s in spellings for f in ALL_FIELDS]
        for spelling in spellings:
            frequency = _frequency(reader, spelling)
            if frequency > limit:
                common.append((frequency, spelling))
            elif frequency:
                rare += _clauses(spelling, ALL_FIELDS, spelling == term)
    for name in names:
        words[name] = [("ident", name)]
        if reader.doc_frequency("ident", name) <= limit:
            rare.append(Term("ident", name, boost=NAME_BOOST))

    common.sort()
    extra = [c for _f, spelling in common for c in _clauses(spelling, ALL_FIELDS, True)]
    if rare:
        return QueryPlan(AndMaybe(Or(rare), Or(extra)) if extra else Or(rare), words)
    if not common:
        return QueryPlan(Or([]), words)

    # Only common words: the rarest one picks the candidates, first in the
    # short fields (cheap, and where a match means most), then everywhere.
    rarest, others = common[0][1], extra[len(ALL_FIELDS) :]
    narrow = Or(_clauses(rarest, SHORT_FIELDS, True))
    wide = Or(_clauses(rarest, ALL_FIELDS, True))
    if not others:
        return QueryPlan(narrow, words, broader=wide)
    return QueryPlan(
        AndMaybe(narrow, Or(others)), words, broader=AndMaybe(wide, Or(others))
    )


def rerank(searcher: Any, plan: QueryPlan, hits: list[Any]) -> list[tuple[Any, float]]:
    """Multiply each hit's score by one plus the share of query words it holds."""
    top = hits[:RERANK_DEPTH]
    if len(plan.words) < 2 or not top:
        return [(hit, float(hit.score or 0.0)) for hit in hits]
    docnums = sorted(hit.docnum for hit in top)
    held = {docnum: 0 for docnum in docnums}
    for pairs in plan.words.values():
        for docnum in _holders(searcher.reader(), pairs, docnums):
            held[docnum] += 1
    share = {docnum: count / len(plan.words) for docnum, count in held.items()}
    scored = [(hit, float(hit.score or 0.0) * (1.0 + share[hit.docnum])) for hit in top]
    scored.sort(key=lambda item: item[1], reverse=True)
    return scored + [(hit, float(hit.score or 0.0)) for hit in hits[RERANK_DEPTH:]]


def _holders(reader: Any, pairs: list[tuple[str, str]], docnums: list[int]) -> set[int]:
    """Return which of the (sorted) documents hold any of the field/text pairs."""
    found: set[int] = set()
    for fieldname, text in pairs:
        if not reader.doc_frequency(fieldname, text):
            continue
        postings = reader.postings(fieldname, text)
        for docnum in docnums:
            if docnum in found or not postings.is_active():
                continue
            if postings.id() < docnum:
                postings.skip_to(docnum)
            if postings.is_active() and postings.id() == docnum:
                found.add(docnum)
    return found


def _without_covered_parts(
    terms: tuple[str, ...], names: tuple[str, ...], reader: Any
) -> list[str]:
    """Drop words that only repeat a longer word or name of the same query.

    无线网络 comes with 无线, 线网, 网络 and 无线网; when the whole word is
    indexed, its parts only slow the query down and blur the coverage bonus.
    Likewise the numbers of an IP address are searched as the address.
    """
    whole = [t for t in terms if CJK_WORD.match(t) and _frequency(reader, t)]
    numbers = {part for name in names for part in re.split(r"[^0-9]+", name) if part}
    return [
        t
        for t in terms
        if not any(t != w and t in w for w in whole)
        and not (t.isdigit() and t in numbers)
    ]


def _frequency(reader: Any, term: str) -> int:
    return int(max(reader.doc_frequency(f, term) for f in TEXT_FIELDS))


def _clauses(spelling: str, fields: tuple[str, ...], exact: bool) -> list[Query]:
    weight = 1.0 if exact else TYPO_BOOST
    return [Term(f, spelling, boost=FIELD_BOOSTS[f] * weight) for f in fields]


def _typo_variants(reader: Any, term: str) -> list[str]:
    """Return near spellings of an English word that the index does not hold."""
    if CJK_WORD.match(term) or term.isdigit() or len(term) < 4:
        return []
    if any(reader.doc_frequency(f, term) for f in TEXT_FIELDS):
        return []
    max_dist = 1 if len(term) < 8 else 2
    variants = sorted(set(reader.terms_within("body", term, max_dist, prefix=1)))[:4]
    variants += [
        v
        for v in reader.terms_within("title", term, max_dist, prefix=1)
        if v not in variants
    ]
    return variants[:6]
