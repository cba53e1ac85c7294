"""The knowledge base as one service: sync the folder, keep the index, answer.

Building a :class:`KnowledgeBase` imports nothing heavy: SQLAlchemy, Whoosh
and jieba load on first use, in whichever thread opens it, so that a face
can show itself before they are ready.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from netcase.config import Paths
from netcase.errors import CaseNotFoundError, NetcaseError

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from netcase.kb.case import Case
    from netcase.kb.catalog import FileProblem, SyncReport
    from netcase.kb.search import ParsedQuery, SearchHit, SearchIndex

log = logging.getLogger(__name__)


class KnowledgeBase:
    """The cases of one folder: catalog, search index and look-ups.

    Nothing touches the disk until :meth:`open`, so a face can build it on
    its main thread and open it in a worker.
    """

    def __init__(self, paths: Paths) -> None:
        self.paths = paths
        key = hashlib.sha256(
            f"{paths.kb_dir}\0{paths.database_url}".encode()
        ).hexdigest()[:16]
        self.index_folder = paths.index_root / key
        self.problems: list[FileProblem] = []
        self._engine: Engine | None = None
        self._index: SearchIndex | None = None
        self._active: dict[str, tuple[str, Case | None]] = {}
        self._lock = threading.Lock()

    @property
    def engine(self) -> Engine:
        """The catalog's engine, created on first use."""
        if self._engine is None:
            from netcase.store import make_engine

            self._engine = make_engine(self.paths.database_url)
        return self._engine

    @property
    def index(self) -> SearchIndex:
        """The search index, opened on first use."""
        if self._index is None:
            from netcase.kb.search import SearchIndex

            self._index = SearchIndex(self.index_folder)
        return self._index

    def open(self) -> SyncReport:
        """Load jieba, sync the catalog with the folder and update the index."""
        from netcase.kb.text import prepare_jieba

        with self._lock:
            prepare_jieba(self.paths.home / "jieba")
            report = self._sync()
            self._active = report.active
            self._update_index()
            self.problems = report.problems
            return report

    def reindex(self) -> SyncReport:
        """Throw the index away and build it again from the catalog."""
        with self._lock:
            self.index.discard()
        return self.open()

    def _sync(self) -> SyncReport:
        from sqlalchemy.exc import IntegrityError

        from netcase.kb.catalog import sync

        try:
            return sync(self.engine, self.paths.kb_dir)
        except IntegrityError:
            # Another netcase process added the same files at the same moment;
            # a second pass finds them in the catalog.
            log.info("catalog changed under this sync; syncing again")
            return sync(self.engine, self.paths.kb_dir)

    def _update_index(self) -> None:
        """Update the index; one that cannot be read is rebuilt from the catalog."""
        try:
            self.index.update(self._active, load=self._load)
        except NetcaseError:
            raise
        # Whoosh raises many kinds of error for a damaged folder.
        except Exception as exc:
            self._rebuild(exc)

    def search(
        self, text: str, tags: Iterable[str] = (), limit: int = 20
    ) -> list[SearchHit]:
        """Rank cases for a typed query; an empty query lists the newest first.

        An index that fails while being read is rebuilt from the catalog once,
        and the query asked again.
        """
        from netcase.kb.search import parse_query

        query = parse_query(text, tags)
        try:
            return self._ask_index(query, limit)
        except NetcaseError:
            raise
        # Whoosh raises many kinds of error for a damaged folder.
        except Exception as exc:
            with self._lock:
                self._rebuild(exc)
            return self._ask_index(query, limit)

    def _rebuild(self, failure: Exception) -> None:
        """Throw away an index that failed and build it again from the catalog."""
        log.warning(
            "search index at %s failed (%s: %s); rebuilding",
            self.index_folder,
            type(failure).__name__,
            failure,
        )
        self.index.discard()
        self.index.update(self._active, load=self._load)

    def _ask_index(self, query: ParsedQuery, limit: int) -> list[SearchHit]:
        if query.is_empty:
            return self.index.recent(query.tags, limit)
        return self.index.search(query, limit)

    def get(self, case_id: str) -> Case:
        """Return one case by id.

        Raises:
            CaseNotFoundError: When no usable case has that id.
        """
        from netcase.kb.catalog import load_cases

        cases = load_cases(self.engine, self.paths.kb_dir, [case_id])
        if case_id not in cases:
            raise CaseNotFoundError(
                f"No case with the id {case_id!r} in {str(self.paths.kb_dir)!r}; "
                "`netcase search` lists the ids."
            )
        return cases[case_id]

    def case_files(self) -> list[tuple[Path, Case]]:
        """Return every usable case with its file, from the catalog."""
        from netcase.kb.catalog import load_case_files

        return load_case_files(self.engine, self.paths.kb_dir)

    def _load(self, ids: list[str]) -> dict[str, Case]:
        from netcase.kb.catalog import load_cases

        # A long id list outgrows SQL's parameter limit; then read them all.
        return load_cases(
            self.engine, self.paths.kb_dir, ids if len(ids) <= 500 else None
        )
