"""Reading and checking one case file."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from kbfiles import case_text
from netcase.kb.case import read_case

PATH = Path("kb/sample-case.md")


def problems_of(text: str, path: Path = PATH) -> list[tuple[int, str]]:
    case, problems = read_case(path, text)
    assert (case is None) == bool(problems)
    return [(p.line, p.message) for p in problems]


def test_valid_case_is_read_with_fields_and_sections() -> None:
    case, problems = read_case(PATH, case_text("sample-case", body="Body words."))

    assert problems == []
    assert case is not None
    assert case.id == "sample-case"
    assert case.tags == ("test", "lab")
    assert case.updated == date(2025, 2, 3)
    assert case.sections["symptom"] == "Body words."
    assert set(case.sections) >= {"symptom", "analysis", "root_cause", "resolution"}


def test_crlf_and_byte_order_mark_are_accepted() -> None:
    text = "\ufeff" + case_text("sample-case").replace("\n", "\r\n")

    case, problems = read_case(PATH, text)

    assert problems == [] and case is not None


def test_broken_yaml_names_the_line_of_the_error() -> None:
    text = case_text("sample-case").replace("tags: [test, lab]", "tags: [test, lab")

    found = problems_of(text)

    assert len(found) == 1
    line, message = found[0]
    assert message.startswith("Broken YAML")
    assert 5 <= line <= 7


def test_nested_yaml_aliases_are_refused_at_the_line_that_repeats_a_value() -> None:
    # Nine levels of nine aliases stand for 9**9 strings once expanded.
    levels = ['a0: &a0 ["laugh", "laugh", "laugh", "laugh", "laugh"]']
    levels += [f"a{n}: &a{n} [{', '.join([f'*a{n - 1}'] * 9)}]" for n in range(1, 10)]
    text = case_text("sample-case").replace(
        "tags: [test, lab]", "tags: [test, lab]\n" + "\n".join(levels)
    )
    tags_line = text.splitlines().index("tags: [test, lab]") + 1

    found = problems_of(text)

    assert found == [
        (
            tags_line + 2,
            "Broken YAML in the front matter: YAML aliases (*name) are not "
            "allowed in a case file; write the value out.",
        )
    ]


def test_a_single_alias_is_refused_too() -> None:
    text = case_text("sample-case").replace(
        "tags: [test, lab]", "tags: &t [test, lab]\nenvironment_copy: *t"
    )

    assert "YAML aliases" in problems_of(text)[0][1]


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("2024-13-45", "month must be in 1..12"),
        ("2024-02-30", "day is out of range for month"),
        ("2024-01-01 25:00:00", "hour must be in 0..23"),
        ("!!timestamp 2024-1-x", "not a date"),
    ],
)
def test_a_date_that_is_no_real_date_is_named_with_its_line(
    value: str, reason: str
) -> None:
    text = case_text("sample-case")
    created_at = (
        text.splitlines().index(
            next(line for line in text.splitlines() if line.startswith("created:"))
        )
        + 1
    )
    text = text.replace(
        next(line for line in text.splitlines() if line.startswith("created:")),
        f"created: {value}",
    )

    assert problems_of(text) == [
        (
            created_at,
            f"Broken YAML in the front matter: a value cannot be read ({reason}).",
        )
    ]


def test_a_key_given_twice_is_refused_at_its_second_line() -> None:
    text = case_text("sample-case").replace(
        "tags: [test, lab]", "tags: [test, lab]\ntitle: Another title"
    )
    lines = text.splitlines()
    first = next(i for i, line in enumerate(lines, 1) if line.startswith("title:"))
    second = lines.index("title: Another title") + 1

    assert problems_of(text) == [
        (
            second,
            "Broken YAML in the front matter: the key 'title' is given twice "
            f"(first on line {first}).",
        )
    ]


def test_missing_front_matter_is_reported_on_line_one() -> None:
    assert problems_of("# Just a heading\n") == [
        (1, "The file does not start with '---': a case begins with YAML front matter.")
    ]


def test_unclosed_front_matter_is_reported() -> None:
    found = problems_of("---\nid: sample-case\n")

    assert found[0][1].startswith("The front matter opened on line 1 is never closed")


def test_missing_required_field_is_named() -> None:
    text = case_text("sample-case").replace(
        "environment: A test lab / 测试实验室\n", ""
    )

    assert (1, "Missing required field 'environment'.") in problems_of(text)


def test_id_that_differs_from_file_name_points_at_the_id_line() -> None:
    found = problems_of(case_text("other-name"))

    assert found == [
        (
            2,
            "The id 'other-name' differs from the file name 'sample-case.md'; rename one so they match.",
        )
    ]


def test_symptoms_in_one_language_only_are_rejected() -> None:
    text = case_text("sample-case").replace("  - 测试网页打不开\n", "")

    assert any(
        "both Chinese and English" in message for _line, message in problems_of(text)
    )


def test_updated_before_created_is_rejected() -> None:
    text = case_text("sample-case", updated="2024-12-31")

    assert any(
        "earlier than 'created'" in message for _line, message in problems_of(text)
    )


def test_unknown_field_is_rejected_but_reserved_playbook_fields_are_kept() -> None:
    unknown = case_text("sample-case").replace("created:", "colour: red\ncreated:")
    reserved = case_text("sample-case").replace(
        "created:", "evidence: {supports: []}\ncreated:"
    )

    assert any(
        "Unknown field 'colour'" in message for _line, message in problems_of(unknown)
    )
    case, problems = read_case(PATH, reserved)
    assert problems == [] and case is not None
    assert case.extra == {"evidence": {"supports": []}}


def test_missing_section_is_reported() -> None:
    text = case_text("sample-case").replace(
        "## Root cause / 根因\n\nA root cause.\n", ""
    )

    assert any(
        "Missing section '## Root cause / 根因'" in m for _line, m in problems_of(text)
    )


def test_heading_inside_a_code_fence_is_not_a_section() -> None:
    text = case_text("sample-case", body="```\n## Analysis / 分析\n```")

    case, problems = read_case(PATH, text)

    assert problems == [] and case is not None
    assert "## Analysis" in case.sections["symptom"]


def test_document_round_trip_keeps_every_field() -> None:
    case, _ = read_case(PATH, case_text("sample-case"))
    assert case is not None

    assert type(case).from_document(case.to_document()) == case


def test_a_date_with_a_time_of_day_is_read_as_its_date() -> None:
    text = case_text("sample-case")
    created = next(line for line in text.splitlines() if line.startswith("created:"))

    case, problems = read_case(
        PATH, text.replace(created, "created: 2025-01-02 09:30:00")
    )

    assert problems == [] and case is not None
    assert case.created == date(2025, 1, 2)
