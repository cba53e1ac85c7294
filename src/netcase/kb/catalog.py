"""Mirror a case folder into the SQL catalog, re-reading only changed files."""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import delete
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from netcase.kb.case import Case, Problem, read_case
from netcase.store import CaseFileRow

log = logging.getLogger(__name__)

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
    return sorted(
        path
        for path in kb_dir.rglob("*.md")
        if path.name.lower() not in IGNORED_NAMES
        and not any(
            part.startswith((".", "_")) for part in path.relative_to(kb_dir).parts
        )
    )


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


def sync(engine: Engine, kb_dir: Path) -> SyncReport:
    """Bring the catalog's rows for ``kb_dir`` in line with its files."""
    started = time.perf_counter()
    root = str(kb_dir)
    report = SyncReport()
    with Session(engine, expire_on_commit=False) as session:
        rows = {
            row.path: row
            for row in session.exec(select(CaseFileRow).where(CaseFileRow.root == root))
        }
        seen: set[str] = set()
        fresh: dict[str, Case] = {}
        for path in case_files(kb_dir):
            relative = path.relative_to(kb_dir).as_posix()
            seen.add(relative)
            data = _read_bytes(path)
            digest = hashlib.sha256(data).hexdigest()
            row = rows.get(relative)
            if row is not None and row.sha256 == digest:
                continue
            case, problems = _parse(path, data)
            row = _store(session, rows, root, relative, digest, case, problems)
            report.read.append(relative)
            if case is not None:
                fresh[relative] = case

        report.removed = sorted(set(rows) - seen)
        if report.removed:
            session.exec(
                delete(CaseFileRow).where(
                    col(CaseFileRow.root) == root,
                    col(CaseFileRow.path).in_(report.removed),
                )
            )
        session.commit()
        kept = [rows[p] for p in sorted(seen) if p in rows]
    _collect(kb_dir, kept, fresh, report)
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
    try:
        return path.read_bytes()
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
    rows: dict[str, CaseFileRow],
    root: str,
    relative: str,
    digest: str,
    case: Case | None,
    problems: list[Problem],
) -> CaseFileRow:
    row = rows.get(relative) or CaseFileRow(root=root, path=relative, sha256=digest)
    row.sha256 = digest
    row.case_id = case.id if case else None
    row.updated = case.updated.isoformat() if case else ""
    row.document = case.to_document() if case else None
    row.problems = [{"line": p.line, "message": p.message} for p in problems]
    session.add(row)
    rows[relative] = row
    return row


def _collect(
    kb_dir: Path, rows: list[CaseFileRow], fresh: dict[str, Case], report: SyncReport
) -> None:
    """Fill the report's problems and active cases from the folder's rows."""
    owners: dict[str, Path] = {}
    for row in rows:
        path = kb_dir / row.path
        report.problems += [
            FileProblem(path, p["line"], p["message"]) for p in row.problems
        ]
        if row.case_id is None:
            continue
        case = fresh.get(row.path)
        if row.case_id in owners:
            line = case.id_line if case else int((row.document or {}).get("id_line", 1))
            report.problems.append(
                FileProblem(
                    path,
                    line,
                    f"The id {row.case_id!r} is already used by "
                    f"{owners[row.case_id].name!r}.",
                )
            )
            continue
        owners[row.case_id] = path
        report.active[row.case_id] = (row.sha256, case)


def _duplicate(path: Path, case: Case, owner: Path) -> FileProblem:
    return FileProblem(
        path, case.id_line, f"The id {case.id!r} is already used by {owner.name!r}."
    )
