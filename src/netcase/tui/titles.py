"""Picks the cases worth scoring in the command palette, without scoring them all."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from netcase.kb.search import SearchHit

SCORED_MAX = 200
"""At most this many cases are handed to the palette's fuzzy matcher per key."""
DISCOVERED_MAX = 100
"""The palette lists this many of the newest cases before anything is typed."""


class TitleIndex:
    """The cases' titles and ids, lowercased once, for the command palette.

    The palette's fuzzy matcher costs about 20 µs per name; scoring three
    names of 10,000 cases on every key stalled the screen. A regular
    expression with the same in-order rule first keeps the cases that can
    match at all, and of those the ones holding the typed text whole come
    first, so the matcher scores a few hundred at most.

    Args:
        cases: Every usable case, most recently updated first.
    """

    def __init__(self, cases: Sequence[SearchHit]) -> None:
        self.cases = list(cases)
        self._names = [f"{c.title}\n{c.title_zh}\n{c.id}".lower() for c in cases]

    def candidates(self, query: str, limit: int = SCORED_MAX) -> list[SearchHit]:
        """Return up to ``limit`` cases whose title, Chinese title or id can match.

        A name can match when it holds the query's characters in order, as
        the palette's matcher requires. Cases holding the query as one piece
        come first; within each group the newest come first.
        """
        # TODO: the cap comes before scoring - for a short or common prefix a
        # better-scoring title beyond the first 200 candidates is not offered.
        typed = query.strip().lower()
        if not typed:
            return self.cases[:limit]
        in_order = re.compile(".*?".join(re.escape(char) for char in typed))
        whole: list[SearchHit] = []
        scattered: list[SearchHit] = []
        for case, names in zip(self.cases, self._names, strict=True):
            if typed in names:
                whole.append(case)
                if len(whole) >= limit:
                    break
            elif len(scattered) < limit and in_order.search(names):
                scattered.append(case)
        return (whole + scattered)[:limit]

    def newest(self, limit: int = DISCOVERED_MAX) -> list[SearchHit]:
        """Return the most recently updated cases."""
        return self.cases[:limit]
