"""The in-memory postings writer writes the segment Whoosh's own writer would."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from whoosh import index as whoosh_index
from whoosh.writing import SegmentWriter

from conftest import REPO_KB
from netcase.kb.case import Case, read_case
from netcase.kb.indexwriter import InMemoryPostingsWriter
from netcase.kb.search import _schema, case_fields
from netcase.kb.text import prepare_jieba

Writer = Callable[..., Any]


@pytest.fixture(scope="module")
def cases(tmp_path_factory: pytest.TempPathFactory) -> list[Case]:
    prepare_jieba(tmp_path_factory.mktemp("jieba"))
    read = [
        read_case(path, path.read_text("utf-8"))[0] for path in REPO_KB.glob("*.md")
    ]
    return sorted((case for case in read if case is not None), key=lambda c: c.id)


def build(folder: Path, writer: Writer, batches: list[list[Case]]) -> Any:
    """Index each batch in a commit of its own; a case seen again replaces itself."""
    folder.mkdir()
    index = whoosh_index.create_in(str(folder), _schema())
    for batch in batches:
        opened = writer(index)
        for case in batch:
            opened.update_document(**case_fields(case))
        opened.commit()
    return index


def contents(index: Any) -> dict[str, Any]:
    """Every term's postings and statistics, field lengths and stored documents."""
    with index.reader() as reader:
        postings = {}
        for field, term in reader.all_terms():
            info = reader.term_info(field, term)
            statistics = (
                info.weight(),
                info.doc_frequency(),
                info.min_length(),
                info.max_length(),
                info.max_weight(),
            )
            postings[(field, term)] = (statistics, _postings(reader, field, term))
        lengths = {
            (stored["id"], field): reader.doc_field_length(docnum, field)
            for docnum, stored in reader.iter_docs()
            for field in ("title", "symptoms", "tags", "body", "ident")
        }
        stored = sorted(
            (dict(fields) for _num, fields in reader.iter_docs()),
            key=lambda fields: fields["id"],
        )
        return {"postings": postings, "lengths": lengths, "stored": stored}


def _postings(reader: Any, field: str, term: bytes) -> list[tuple[str, float, bytes]]:
    """Return (case id, weight, value) of each posting of a term."""
    matcher = reader.postings(field, term)
    found = []
    while matcher.is_active():
        case_id = reader.stored_fields(matcher.id())["id"]
        found.append((case_id, matcher.weight(), matcher.value()))
        matcher.next()
    return sorted(found)


def test_one_commit_gives_the_segment_whoosh_writes(
    tmp_path: Path, cases: list[Case]
) -> None:
    ours = build(tmp_path / "ours", InMemoryPostingsWriter, [cases])
    theirs = build(tmp_path / "theirs", SegmentWriter, [cases])

    assert contents(ours) == contents(theirs)
    assert len(contents(ours)["postings"]) > 1000


def test_updates_and_merged_segments_give_the_same_index_too(
    tmp_path: Path, cases: list[Case]
) -> None:
    # Three commits: the later ones replace cases and make segments to merge.
    batches = [cases[:10], cases[5:], cases[::3]]

    ours = build(tmp_path / "ours", InMemoryPostingsWriter, batches)
    theirs = build(tmp_path / "theirs", SegmentWriter, batches)

    assert contents(ours) == contents(theirs)
    assert len(contents(ours)["stored"]) == len(cases)
