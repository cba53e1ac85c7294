"""The Whoosh search index over the catalog's cases, and the query that ranks them."""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import sys
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from whoosh import index as whoosh_index
from whoosh.analysis import Analyzer
from whoosh.fields import ID, KEYWORD, STORED, TEXT, Schema
from whoosh.index import LockError
from whoosh.query import And, Every, Query, Term
from whoosh.searching import Searcher

from netcase.kb.case import Case
from netcase.kb.indexwriter import InMemoryPostingsWriter
from netcase.kb.queryplan import RERANK_DEPTH, plan, rerank
from netcase.kb.text import (
    CJK_WORD,
    WordCounts,
    WordTokenizer,
    identifiers,
    normalise_word,
    plain_text,
    words,
)

log = logging.getLogger(__name__)

SCHEMA_VERSION = 3
STATE_FILE = "netcase-index.json"
MAX_QUERY_TERMS = 48
BROADEN_BELOW = 5
"""A query of common words only looks past the short fields when they hold fewer cases."""
WRITER_WAIT_S = 10.0
"""How long to wait for another netcase process to finish writing the index."""
SNIPPET_WIDTH = 110
SNIPPET_SOURCE_CHARS = 20_000
SECTION_HEADING = re.compile(r"^##[ \t]+[^\n]*$", re.MULTILINE)
TAG_FILTER = re.compile(r"(?:^|\s)tag:(\S+)", re.IGNORECASE)


def _schema() -> Schema:
    return Schema(
        id=ID(stored=True, unique=True),
        title=_text_field(),
        symptoms=_text_field(),
        tags=KEYWORD(lowercase=True, scorable=True, stored=True),
        body=_text_field(),
        ident=KEYWORD(lowercase=True, scorable=True),
        title_en=STORED(),
        title_zh=STORED(),
        text=STORED(),
        updated=ID(stored=True, sortable=True),
    )


def _text_field() -> TEXT:
    """A text field of counted words, without positions (no phrase queries)."""
    analyzer: Analyzer = WordTokenizer()
    field = TEXT(analyzer=analyzer, phrase=False)
    field.format = WordCounts(field_boost=field.format.field_boost)
    return field


@dataclass(frozen=True)
class SearchHit:
    """One case found by a query, with why it was found."""

    id: str
    title: str
    title_zh: str
    tags: tuple[str, ...]
    score: float
    snippet: str
    """Body text around the best match, matched words wrapped in ``**``."""
    updated: str = ""

    def to_json(self) -> dict[str, Any]:
        """Return the hit as the CLI's JSON object."""
        return {
            "id": self.id,
            "title": self.title,
            "title_zh": self.title_zh,
            "score": round(self.score, 4),
            "tags": list(self.tags),
            "snippet": self.snippet,
        }


@dataclass(frozen=True)
class ParsedQuery:
    """A query split into what Whoosh matches and what filters it."""

    terms: tuple[str, ...]
    names: tuple[str, ...]
    tags: tuple[str, ...]

    @property
    def is_empty(self) -> bool:
        """True when there is nothing to match, only perhaps tag filters."""
        return not self.terms and not self.names


def parse_query(text: str, tags: Iterable[str] = ()) -> ParsedQuery:
    """Split a typed query into words, identifiers and ``tag:`` filters."""
    tag_filters = [t.lower() for t in tags] + [
        m.lower() for m in TAG_FILTER.findall(text)
    ]
    remainder = TAG_FILTER.sub(" ", text)
    terms = list(dict.fromkeys(term for term, _start, _end in words(remainder)))
    names = list(dict.fromkeys(identifiers(remainder)))
    return ParsedQuery(
        terms=tuple(terms[:MAX_QUERY_TERMS]),
        names=tuple(names[:MAX_QUERY_TERMS]),
        tags=tuple(dict.fromkeys(tag_filters)),
    )


def case_fields(case: Case) -> dict[str, Any]:
    """Return the index fields of one case.

    The section headings every case shares (Symptom / 现象 ...) are left
    out: they would match every case and open every snippet.
    """
    body = plain_text(SECTION_HEADING.sub("", case.body))
    return {
        "id": case.id,
        "title": f"{case.title}\n{case.title_zh}",
        "symptoms": "\n".join(case.symptoms),
        "tags": " ".join(case.tags),
        "body": f"{case.environment}\n{body}",
        "ident": " ".join(
            identifiers(f"{case.title} {' '.join(case.symptoms)} {case.body}")
        ),
        "title_en": case.title,
        "title_zh": case.title_zh,
        "text": body,
        "updated": case.updated.isoformat(),
    }


class SearchIndex:
    """A Whoosh index folder kept equal to a set of cases.

    The folder also holds a small state file naming each indexed case and its
    file's hash; an index whose state is missing, unreadable or of another
    schema is rebuilt from the cases, never repaired.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._index: Any = None
        self._open_searcher: Searcher | None = None
        self._search_lock = threading.RLock()

    def update(
        self, cases: dict[str, tuple[str, Case | None]], load: Any = None
    ) -> None:
        """Bring the index in line with ``cases``: id to (file hash, case).

        Args:
            cases: Every case that should be indexed, with its file's hash. The
                case may be None when ``load`` can fetch it.
            load: Called with a list of ids to get the cases not given.
        """
        wanted = {case_id: sha for case_id, (sha, _case) in cases.items()}
        indexed = self._open_or_reset()
        stale = [cid for cid, sha in indexed.items() if wanted.get(cid) != sha]
        missing = [cid for cid, sha in wanted.items() if indexed.get(cid) != sha]
        if not stale and not missing:
            return

        fetched = load(missing) if load is not None else {}
        # TODO: a full build indexes in one process - 10,000 cases take about 16 s
        # to become searchable on a first start (later starts re-read only edits).
        try:
            # One process, one segment: queries stay fast (five segments from a
            # parallel build made them three times slower).
            writer = InMemoryPostingsWriter(self._index, timeout=WRITER_WAIT_S)
        except (LockError, PermissionError) as exc:
            log.warning(
                "cannot update the search index at %s (%s); searching it as it is",
                self.folder,
                "another netcase is writing it" if isinstance(exc, LockError) else exc,
            )
            return
        try:
            for case_id in stale:
                writer.delete_by_term("id", case_id)
            for case_id in missing:
                # update_document, not add: a second netcase may add the same case.
                writer.update_document(
                    **case_fields(cases[case_id][1] or fetched[case_id])
                )
        except BaseException:
            writer.cancel()
            raise
        writer.commit()
        self._close_searcher()
        self._write_state(wanted)
        log.info("search index updated: %d removed, %d added", len(stale), len(missing))

    def discard(self) -> None:
        """Delete the index folder; the next update builds it again."""
        self._close_searcher()
        self._index = None
        if self.folder.exists():
            shutil.rmtree(self.folder)

    @contextmanager
    def _searcher(self) -> Iterator[Searcher]:
        """Lend the open searcher, refreshed if the index changed, to one caller.

        Opening a searcher costs about 2 ms, an eighth of a query; one is kept
        and lent to one thread at a time (a reader is not safe to share).
        """
        with self._search_lock:
            if self._index is None:
                self._open_or_reset()
            if self._open_searcher is None:
                self._open_searcher = self._index.searcher()
            else:
                self._open_searcher = self._open_searcher.refresh()
            yield self._open_searcher

    def _close_searcher(self) -> None:
        with self._search_lock:
            if self._open_searcher is not None:
                self._open_searcher.close()
                self._open_searcher = None

    def search(self, query: ParsedQuery, limit: int = 20) -> list[SearchHit]:
        """Return the best-matching cases for a non-empty query, best first."""
        with self._searcher() as searcher:
            query_plan = plan(query.terms, query.names, searcher.reader())
            tag_filter = (
                And([Term("tags", tag) for tag in query.tags]) if query.tags else None
            )
            depth = max(limit, RERANK_DEPTH)
            results = searcher.search(query_plan.query, limit=depth, filter=tag_filter)
            if query_plan.broader is not None and results.scored_length() < min(
                limit, BROADEN_BELOW
            ):
                results = searcher.search(
                    query_plan.broader, limit=depth, filter=tag_filter
                )
            # Indexing, unlike list(), does not count every match first.
            hits = [results[i] for i in range(results.scored_length())]
            ranked = rerank(searcher, query_plan, hits)[:limit]
            highlighter = _highlighter(query, query_plan.query)
            return [
                _hit(hit, score, snippet(hit["text"], highlighter))
                for hit, score in ranked
            ]

    def recent(
        self, tags: Iterable[str] = (), limit: int | None = None
    ) -> list[SearchHit]:
        """Return cases newest first by their ``updated`` date, optionally by tag."""
        tag_filter = And([Term("tags", tag) for tag in tags]) if tags else None
        with self._searcher() as searcher:
            results = searcher.search(
                Every(),
                limit=limit,
                filter=tag_filter,
                sortedby="updated",
                reverse=True,
            )
            return [_hit(hit, 0.0, snippet(hit["text"], None)) for hit in results]

    def _open_or_reset(self) -> dict[str, str]:
        """Open the index, or create it empty; return what it holds."""
        self._close_searcher()
        state = self._open_existing(quiet=True)
        if state is not None:
            return state
        # Rebuilding deletes the folder: one process at a time, and only after
        # checking again that another one has not just built it.
        with _exclusive(self.folder.with_name(self.folder.name + ".lock")):
            state = self._open_existing(quiet=False)
            if state is not None:
                return state
            if self.folder.exists():
                shutil.rmtree(self.folder)
            self.folder.mkdir(parents=True)
            self._index = whoosh_index.create_in(str(self.folder), _schema())
            self._write_state({})
            return {}

    def _open_existing(self, quiet: bool) -> dict[str, str] | None:
        """Open a complete index of this schema; return what it holds, or None."""
        state = self._read_state()
        if state is None:
            if not quiet:
                log.info(
                    "search index at %s is missing or outdated; rebuilding",
                    self.folder,
                )
            return None
        try:
            self._index = whoosh_index.open_dir(str(self.folder))
        except Exception as exc:  # Whoosh raises many types for a damaged folder.
            if not quiet:
                log.warning(
                    "search index at %s is unreadable (%s); rebuilding",
                    self.folder,
                    exc,
                )
            return None
        return state

    def _read_state(self) -> dict[str, str] | None:
        try:
            state = json.loads((self.folder / STATE_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(state, dict) or state.get("schema") != SCHEMA_VERSION:
            return None
        docs = state.get("docs")
        return docs if isinstance(docs, dict) else None

    def _write_state(self, docs: dict[str, str]) -> None:
        path = self.folder / STATE_FILE
        partial = path.with_suffix(".tmp")
        partial.write_text(
            json.dumps({"schema": SCHEMA_VERSION, "docs": docs}), encoding="utf-8"
        )
        partial.replace(path)


@contextmanager
def _exclusive(lock_file: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``lock_file`` across processes.

    Where the lock file cannot be created (a read-only data folder), nothing
    can be rebuilt there either, so the caller goes on unlocked and fails on
    its own write with a clearer error.
    """
    try:
        lock_file.parent.mkdir(parents=True, exist_ok=True)
        handle = lock_file.open("a+b")
    except OSError as exc:
        log.debug("no lock at %s (%s)", lock_file, exc)
        yield
        return
    with handle:
        _lock(handle.fileno())
        try:
            yield
        finally:
            _unlock(handle.fileno())


if sys.platform == "win32":
    import msvcrt

    def _lock(fd: int) -> None:
        os.lseek(fd, 0, os.SEEK_SET)
        while True:
            try:
                msvcrt.locking(fd, msvcrt.LK_LOCK, 1)
                return
            except OSError:  # LK_LOCK gives up after ten seconds; keep waiting.
                continue

    def _unlock(fd: int) -> None:
        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _lock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_EX)

    def _unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)


def _hit(hit: Any, score: float, text: str) -> SearchHit:
    return SearchHit(
        id=hit["id"],
        title=hit["title_en"],
        title_zh=hit["title_zh"],
        tags=tuple(hit["tags"].split()),
        score=score,
        snippet=text,
        updated=hit["updated"],
    )


@dataclass(frozen=True)
class Highlighter:
    """Finds the words of a text that a query matched, as character spans."""

    pattern: re.Pattern[str]
    stems: frozenset[str]

    def spans(self, text: str) -> list[tuple[int, int]]:
        """Return the merged spans of matched words in ``text``."""
        found = (
            m
            for m in self.pattern.finditer(text)
            if not m.group(0)[0].isascii()
            or m.lastgroup == "name"
            or self._stems_to_term(m.group(0))
        )
        return _merged_spans(found)

    def _stems_to_term(self, word: str) -> bool:
        return normalise_word(word) in self.stems


def _highlighter(query: ParsedQuery, whoosh_query: Query) -> Highlighter | None:
    """Build the highlighter for the query's words, typo variants and names."""
    chinese: set[str] = set()
    stems: set[str] = set()
    searched = [
        term.decode() if isinstance(term, bytes) else str(term)
        for field, term in whoosh_query.iter_all_terms()
        if field in ("title", "symptoms", "body")
    ]
    for value in (*query.terms, *searched):
        (chinese if CJK_WORD.match(value) else stems).add(value)
    alternatives = []
    if query.names:
        names = sorted(query.names, key=len, reverse=True)
        alternatives.append("(?P<name>" + "|".join(map(re.escape, names)) + ")")
    if chinese:
        alternatives.append(
            "|".join(map(re.escape, sorted(chinese, key=len, reverse=True)))
        )
    if stems:
        alternatives.append(
            r"\b(?:" + "|".join(map(re.escape, sorted(stems))) + r")\w*"
        )
    if not alternatives:
        return None
    pattern = re.compile("|".join(alternatives), re.IGNORECASE)
    return Highlighter(pattern, frozenset(stems))


def snippet(
    text: str, highlighter: Highlighter | None, width: int = SNIPPET_WIDTH
) -> str:
    """Cut the part of ``text`` with the most matches and mark them with ``**``.

    Only the first :data:`SNIPPET_SOURCE_CHARS` characters are looked at, so a
    long case costs no more than a short one.
    """
    flat = " ".join(text[:SNIPPET_SOURCE_CHARS].split())
    spans = highlighter.spans(flat) if highlighter is not None else []
    if not spans:
        return flat[:width] + ("…" if len(flat) > width else "")

    best_start = _densest_window(spans, width)
    end = min(len(flat), best_start + width)
    pieces: list[str] = ["…" if best_start > 0 else ""]
    cursor = best_start
    for start, stop in spans:
        if start < best_start or stop > end:
            continue
        pieces += [flat[cursor:start], "**", flat[start:stop], "**"]
        cursor = stop
    pieces += [flat[cursor:end], "…" if end < len(flat) else ""]
    return "".join(pieces)


def _densest_window(spans: list[tuple[int, int]], width: int) -> int:
    """Return the start of the window of ``width`` holding the most whole spans."""
    best_start, best_count, last = 0, -1, 0
    for first, (start, _end) in enumerate(spans):
        begin = max(0, start - width // 5)
        last = max(last, first)
        while last < len(spans) and spans[last][1] <= begin + width:
            last += 1
        if last - first > best_count:
            best_start, best_count = begin, last - first
    return best_start


def _merged_spans(matches: Iterable[re.Match[str]]) -> list[tuple[int, int]]:
    """Join overlapping or touching match spans, so one word is marked once."""
    merged: list[tuple[int, int]] = []
    for match in sorted(matches, key=lambda m: m.start()):
        start, end = match.span()
        if start == end:
            continue
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged
