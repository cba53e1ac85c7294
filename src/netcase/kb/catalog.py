"""Mirror a case folder into the SQL catalog, re-reading only changed files."""

from __future__ import annotations

import hashlib
import logging
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from stat import S_ISREG
from typing import Any

from sqlalchemy import delete
from sqlalchemy import select as sa_select
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from netcase.kb.case import Case, Problem, read_case
from netcase.store import CaseFileRow

log = logging.getLogger(__name__)

MAX_CASE_BYTES = 256 * 1024
"""A case file larger than this is reported, not read: it would slow every search."""
IGNORED_NAMES = frozenset({"readme.md", "index.md"})


@dataclass(frozen=True)
class FileProblem:
    """A problem in one file of the case folder."""

    path: Path
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


@dataclass
class SyncReport:
    """What one sync read, changed and found wrong."""

    read: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    problems: list[FileProblem] = field(default_factory=list)
    active: dict[str, tuple[str, Case | None]] = field(default_factory=dict)
    """Every usable case: id to (file hash, the case if it was read now)."""
    duration_s: float = 0.0


def case_files(kb_dir: Path) -> list[Path]:
    """Return the case files of a folder, sorted, skipping READMEs and hidden files."""
    return [Path(path) for _relative, path, _stat in _walk(kb_dir)]


def _walk(kb_dir: Path) -> list[tuple[str, str, os.stat_result]]:
    """List the case files under a folder with their stat, sorted by relative path.

    Folders and files starting with '.' or '_' are skipped, as are READMEs.
    """
    found: list[tuple[str, str, os.stat_result]] = []
    pending = [(str(kb_dir), "")]
    while pending:
        folder, prefix = pending.pop()
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for entry in entries:
            if entry.name.startswith((".", "_")):
                continue
            relative = prefix + entry.name
            if _is_folder(entry):
                pending.append((entry.path, relative + "/"))
            elif entry.name.endswith(".md") and entry.name.lower() not in IGNORED_NAMES:
                found.append((relative, entry.path, _stat(entry)))
    return sorted(found, key=lambda item: item[0])


def _is_folder(entry: os.DirEntry[str]) -> bool:
    """True for a folder; a link that loops or points nowhere is not one."""
    try:
        return entry.is_dir()
    except OSError:
        return False


def _stat(entry: os.DirEntry[str]) -> os.stat_result:
    """Stat what an entry points to, or the link itself when it points nowhere."""
    try:
        return entry.stat()
    except OSError:
        return entry.stat(follow_symlinks=False)


def check_folder(kb_dir: Path) -> tuple[list[tuple[Path, Case]], list[FileProblem]]:
    """Read every case file of a folder without the catalog, as ``kb check`` does.

    Returns:
        Each usable case with its file, and every problem found.
    """
    cases: list[tuple[Path, Case]] = []
    problems: list[FileProblem] = []
    owners: dict[str, Path] = {}
    for path in case_files(kb_dir):
        case, found = _read_file(path)
        problems += [FileProblem(path, p.line, p.message) for p in found]
        if case is None:
            continue
        if case.id in owners:
            problems.append(_duplicate(path, case, owners[case.id]))
            continue
        owners[case.id] = path
        cases.append((path, case))
    return cases, problems


@dataclass
class _Known:
    """What the catalog remembers of one file, without its parsed document."""

    sha256: str
    size: int
    mtime_ns: int
    case_id: str | None
    id_line: int
    problems: list[dict[str, Any]]


def sync(engine: Engine, kb_dir: Path) -> SyncReport:
    """Bring the catalog's rows for ``kb_dir`` in line with its files.

    A file whose size and modification time are as recorded is taken as
    unchanged; any other is hashed, and parsed only when its hash differs.
    """
    started = time.perf_counter()
    root = str(kb_dir)
    report = SyncReport()
    fresh: dict[str, Case] = {}
    with Session(engine) as session:
        known = _known_files(session, root)
        seen: list[str] = []
        inserts: list[dict[str, Any]] = []
        for relative, path, stat in _walk(kb_dir):
            seen.append(relative)
            entry = known.get(relative)
            if entry and (entry.size, entry.mtime_ns) == (
                stat.st_size,
                stat.st_mtime_ns,
            ):
                continue
            data = _read_bytes(Path(path))
            digest = hashlib.sha256(data).hexdigest()
            unchanged = entry is not None and entry.sha256 == digest
            case, problems = (None, []) if unchanged else _parse(Path(path), data)
            if entry is None or entry.sha256 != digest:
                report.read.append(relative)
                fresh.update({relative: case} if case else {})
            known[relative] = _store(
                session, root, relative, digest, stat, case, problems, entry, inserts
            )
        if inserts:
            # One statement for every new file: thousands on a first sync.
            table = CaseFileRow.__table__  # type: ignore[attr-defined]
            session.connection().execute(table.insert(), inserts)

        report.removed = sorted(set(known) - set(seen))
        if report.removed:
            session.exec(
                delete(CaseFileRow).where(
                    col(CaseFileRow.root) == root,
                    col(CaseFileRow.path).in_(report.removed),
                )
            )
        session.commit()
    _collect(kb_dir, [(relative, known[relative]) for relative in seen], fresh, report)
    report.duration_s = time.perf_counter() - started
    log.info(
        "synced %s: %d files read, %d removed, %d problems, %.3f s",
        kb_dir,
        len(report.read),
        len(report.removed),
        len(report.problems),
        report.duration_s,
    )
    return report


def _known_files(session: Session, root: str) -> dict[str, _Known]:
    """Read the catalog's light columns for every file of a folder."""
    table = CaseFileRow.__table__  # type: ignore[attr-defined]
    query = sa_select(
        table.c.path,
        table.c.sha256,
        table.c.size,
        table.c.mtime_ns,
        table.c.case_id,
        table.c.id_line,
        table.c.problems,
    ).where(table.c.root == root)
    return {
        path: _Known(sha, size, mtime_ns, case_id, id_line, problems or [])
        for path, sha, size, mtime_ns, case_id, id_line, problems in session.connection().execute(
            query
        )
    }


def load_cases(
    engine: Engine, kb_dir: Path, ids: list[str] | None = None
) -> dict[str, Case]:
    """Return a folder's cases from the catalog by id; of two files, the first wins."""
    return {case.id: case for _path, case in load_case_files(engine, kb_dir, ids)}


def load_case_files(
    engine: Engine, kb_dir: Path, ids: list[str] | None = None
) -> list[tuple[Path, Case]]:
    """Return a folder's cases with their files, skipping a duplicate id's later file."""
    query = select(CaseFileRow).where(
        CaseFileRow.root == str(kb_dir), col(CaseFileRow.case_id).is_not(None)
    )
    if ids is not None:
        query = query.where(col(CaseFileRow.case_id).in_(ids))
    found: dict[str, tuple[Path, Case]] = {}
    with Session(engine) as session:
        for row in session.exec(query.order_by(col(CaseFileRow.path))):
            if row.case_id not in found and row.document is not None:
                case = Case.from_document(row.document)
                found[case.id] = (kb_dir / row.path, case)
    return list(found.values())


def _read_bytes(path: Path) -> bytes:
    """Read a case file, or say why not in a marker that :func:`_parse` reports.

    Only regular files are opened (a pipe would block, a device never end),
    and only up to :data:`MAX_CASE_BYTES`.
    """
    try:
        stat = path.stat()
        if not S_ISREG(stat.st_mode):
            return b"\0unreadable: it is not a regular file (a pipe, a device or a link to one)"
        if stat.st_size > MAX_CASE_BYTES:
            size_kb = stat.st_size // 1024
            limit_kb = MAX_CASE_BYTES // 1024
            return f"\0unreadable: it is {size_kb} KB, over the {limit_kb} KB a case may hold".encode()
        with path.open("rb") as file:
            return file.read(MAX_CASE_BYTES + 1)
    except OSError as exc:
        return f"\0unreadable: {exc.strerror}".encode()


def _read_file(path: Path) -> tuple[Case | None, list[Problem]]:
    return _parse(path, _read_bytes(path))


def _parse(path: Path, data: bytes) -> tuple[Case | None, list[Problem]]:
    if data.startswith(b"\0unreadable: "):
        return None, [Problem(1, f"Cannot read the file: {data[13:].decode()}.")]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        return None, [Problem(line, "The file is not UTF-8 text; save it as UTF-8.")]
    return read_case(path, text)


def _store(
    session: Session,
    root: str,
    relative: str,
    digest: str,
    stat: os.stat_result,
    case: Case | None,
    problems: list[Problem],
    entry: _Known | None,
    inserts: list[dict[str, Any]],
) -> _Known:
    """Save a file's row; an unchanged hash only refreshes its size and time.

    Rows are written with plain SQL statements: building ORM objects costs
    more than parsing the case on a first sync of thousands of files. A new
    file's row is added to ``inserts``, for the caller to insert all at once.
    """
    table = CaseFileRow.__table__  # type: ignore[attr-defined]
    values: dict[str, Any] = {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns}
    if entry is None or entry.sha256 != digest:
        values |= {
            "sha256": digest,
            "case_id": case.id if case else None,
            "id_line": case.id_line if case else 1,
            "updated": case.updated.isoformat() if case else "",
            "document": case.to_document() if case else None,
            "problems": [{"line": p.line, "message": p.message} for p in problems],
        }
    if entry is None:
        inserts.append({"root": root, "path": relative, **values})
    else:
        where = (table.c.root == root) & (table.c.path == relative)
        session.connection().execute(table.update().where(where).values(**values))
    merged = {**asdict(entry), **values} if entry else values
    return _Known(
        merged["sha256"],
        merged["size"],
        merged["mtime_ns"],
        merged["case_id"],
        merged["id_line"],
        list(merged["problems"]),
    )


def _collect(
    kb_dir: Path,
    files: list[tuple[str, _Known]],
    fresh: dict[str, Case],
    report: SyncReport,
) -> None:
    """Fill the report's problems and active cases from the folder's files."""
    owners: dict[str, str] = {}
    for relative, known in files:
        report.problems += [
            FileProblem(kb_dir / relative, p["line"], p["message"])
            for p in known.problems
        ]
        if known.case_id is None:
            continue
        if known.case_id in owners:
            report.problems.append(
                FileProblem(
                    kb_dir / relative,
                    known.id_line,
                    f"The id {known.case_id!r} is already used by "
                    f"{owners[known.case_id].rpartition('/')[2]!r}.",
                )
            )
            continue
        owners[known.case_id] = relative
        report.active[known.case_id] = (known.sha256, fresh.get(relative))


def _duplicate(path: Path, case: Case, owner: Path) -> FileProblem:
    return FileProblem(
        path, case.id_line, f"The id {case.id!r} is already used by {owner.name!r}."
    )
