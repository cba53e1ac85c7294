"""Case files for tests: a valid one to start from, and ways to break it."""

from __future__ import annotations

import shutil
from pathlib import Path

from conftest import REPO_KB

VALID_CASE = """\
---
id: {id}
title: {title}
title_zh: 测试用的案例标题
tags: [test, lab]
symptoms:
  - {symptom}
  - 测试网页打不开
environment: A test lab / 测试实验室
created: 2025-01-02
updated: {updated}
---

## Symptom / 现象

{body}

## Analysis / 分析

The analysis of the test case.

## Root cause / 根因

A root cause.

## Resolution / 处理

Run `netcase --help`.
"""


def case_text(
    case_id: str,
    *,
    title: str = "A test case",
    symptom: str = "test pages do not load",
    body: str = "Nothing special happens here.",
    updated: str = "2025-02-03",
) -> str:
    """Return the text of a valid case file."""
    return VALID_CASE.format(
        id=case_id, title=title, symptom=symptom, body=body, updated=updated
    )


def write_case(folder: Path, case_id: str, **fields: str) -> Path:
    """Write a valid case file named for its id and return its path."""
    path = folder / f"{case_id}.md"
    path.write_text(case_text(case_id, **fields), encoding="utf-8")
    return path


def copy_repo_kb(target: Path) -> Path:
    """Copy the repository's cases into ``target`` and return it."""
    shutil.copytree(REPO_KB, target)
    return target
