"""netcase's index writer and word counts give the index Whoosh's own would."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from whoosh import index as whoosh_index
from whoosh.fields import Schema
from whoosh.formats import Frequency
from whoosh.writing import SegmentWriter

from conftest import REPO_KB
from netcase.kb.case import Case, read_case
from netcase.kb.indexwriter import InMemoryPostingsWriter
from netcase.kb.search import _schema, case_fields
from netcase.kb.text import WordCounts, WordTokenizer, prepare_jieba

Writer = Callable[..., Any]


@pytest.fixture(scope="module")
def jieba_ready(tmp_path_factory: pytest.TempPathFactory) -> None:
    prepare_jieba(tmp_path_factory.mktemp("jieba"))


@pytest.fixture(scope="module")
def cases(jieba_ready: None) -> list[Case]:
    read = [
        read_case(path, path.read_text("utf-8"))[0] for path in REPO_KB.glob("*.md")
    ]
    return sorted((case for case in read if case is not None), key=lambda c: c.id)


def whoosh_schema() -> Schema:
    """netcase's schema with Whoosh's own Frequency format on the text fields."""
    schema = _schema()
    for name in ("title", "symptoms", "body"):
        schema[name].format = Frequency(field_boost=schema[name].format.field_boost)
    return schema


def build(
    folder: Path, writer: Writer, batches: list[list[Case]], schema: Schema
) -> Any:
    """Index each batch in a commit of its own; a case seen again replaces itself."""
    folder.mkdir()
    index = whoosh_index.create_in(str(folder), schema)
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
    ours = build(tmp_path / "ours", InMemoryPostingsWriter, [cases], _schema())
    theirs = build(tmp_path / "theirs", SegmentWriter, [cases], whoosh_schema())

    assert contents(ours) == contents(theirs)
    assert len(contents(ours)["postings"]) > 1000


def test_updates_and_merged_segments_give_the_same_index_too(
    tmp_path: Path, cases: list[Case]
) -> None:
    # Three commits: the later ones replace cases and make segments to merge.
    batches = [cases[:10], cases[5:], cases[::3]]

    ours = build(tmp_path / "ours", InMemoryPostingsWriter, batches, _schema())
    theirs = build(tmp_path / "theirs", SegmentWriter, batches, whoosh_schema())

    assert contents(ours) == contents(theirs)
    assert len(contents(ours)["stored"]) == len(cases)


@pytest.mark.parametrize(
    "text",
    [
        "FTP 传文件速度只有 100KB/s, the transfer is slow and slower",
        "无线漫游后 FTP 速度慢；信号变强也不回升。重连 Wi-Fi 后恢复",
        "the and of a",
        "",
    ],
)
def test_word_counts_match_whoosh_frequency(jieba_ready: None, text: str) -> None:
    analyzer = WordTokenizer()

    ours = WordCounts(field_boost=2.0).word_values(text, analyzer, mode="index")
    theirs = Frequency(field_boost=2.0).word_values(text, analyzer, mode="index")

    assert sorted(ours) == sorted(theirs)
