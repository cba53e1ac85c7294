"""One case file: its front matter and sections, read and checked."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import yaml

REQUIRED_FIELDS = (
    "id",
    "title",
    "title_zh",
    "tags",
    "symptoms",
    "environment",
    "created",
    "updated",
)
# Kept for the playbook fields of the diagnosis layer; read as they are for now.
RESERVED_FIELDS = ("inputs", "diagnose", "evidence", "actions")
KNOWN_FIELDS = frozenset(REQUIRED_FIELDS + RESERVED_FIELDS)
KNOWN_FIELD_LIST = ", ".join(REQUIRED_FIELDS + RESERVED_FIELDS)

# (key, English heading, Chinese heading, required)
SECTIONS = (
    ("symptom", "Symptom", "现象", True),
    ("analysis", "Analysis", "分析", True),
    ("root_cause", "Root cause", "根因", True),
    ("resolution", "Resolution", "处理", True),
    ("prevention", "Prevention", "预防", False),
)

KEBAB = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
LATIN = re.compile(r"[A-Za-z]")
# libyaml's loader, where PyYAML was built with it, parses about five times faster.
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
HEADING = re.compile(r"^##\s+(.+?)\s*#*\s*$")
FENCE = re.compile(r"^\s*(```|~~~)")


@dataclass(frozen=True)
class Problem:
    """Something wrong with a case file, on a 1-based line."""

    line: int
    message: str


@dataclass(frozen=True)
class Case:
    """A past incident, as read from its file."""

    id: str
    title: str
    title_zh: str
    tags: tuple[str, ...]
    symptoms: tuple[str, ...]
    environment: str
    created: date
    updated: date
    body: str
    """The Markdown after the front matter, as written."""
    sections: dict[str, str] = field(default_factory=dict)
    """Section text by key (``symptom``, ``analysis``, ...)."""
    extra: dict[str, Any] = field(default_factory=dict)
    """Reserved front-matter fields (playbook, evidence, actions), unchecked."""
    id_line: int = 1
    """The line of the ``id`` key, for pointing at a duplicate."""
    lines: dict[str, int] = field(default_factory=dict)
    """File lines of the reserved fields' parts, by path such as ``diagnose[0].probe``."""

    def line_of(self, path: str) -> int:
        """Return the file line of a front-matter path, or of its nearest parent."""
        while path:
            if path in self.lines:
                return self.lines[path]
            path = (
                path.rpartition("[")[0]
                if path.endswith("]")
                else path.rpartition(".")[0]
            )
        return 1

    def to_document(self) -> dict[str, Any]:
        """Return the case as plain JSON-able values."""
        return {
            "id": self.id,
            "title": self.title,
            "title_zh": self.title_zh,
            "tags": list(self.tags),
            "symptoms": list(self.symptoms),
            "environment": self.environment,
            "created": self.created.isoformat(),
            "updated": self.updated.isoformat(),
            "body": self.body,
            "sections": dict(self.sections),
            "extra": self.extra,
            "id_line": self.id_line,
            "lines": self.lines,
        }

    @classmethod
    def from_document(cls, document: dict[str, Any]) -> Case:
        """Rebuild a case from :meth:`to_document` output."""
        return cls(
            id=document["id"],
            title=document["title"],
            title_zh=document["title_zh"],
            tags=tuple(document["tags"]),
            symptoms=tuple(document["symptoms"]),
            environment=document["environment"],
            created=date.fromisoformat(document["created"]),
            updated=date.fromisoformat(document["updated"]),
            body=document["body"],
            sections=dict(document["sections"]),
            extra=dict(document.get("extra") or {}),
            id_line=int(document.get("id_line", 1)),
            lines=dict(document.get("lines") or {}),
        )

    @property
    def markdown(self) -> str:
        """The case as one Markdown document for reading."""
        tags = " ".join(f"`{tag}`" for tag in self.tags)
        head = f"# {self.title}\n\n**{self.title_zh}**\n\n"
        facts = (
            f"- **id:** `{self.id}`\n- **tags:** {tags}\n"
            f"- **environment:** {self.environment}\n"
            f"- **updated:** {self.updated.isoformat()}"
            f" (created {self.created.isoformat()})\n\n"
        )
        symptoms = "".join(f"- {symptom}\n" for symptom in self.symptoms)
        return f"{head}{facts}**Symptoms / 症状**\n\n{symptoms}\n{self.body.strip()}\n"


def read_case(path: Path, text: str) -> tuple[Case | None, list[Problem]]:
    """Parse and check one case file's text.

    Returns:
        The case (None when it cannot be used) and every problem found.
    """
    text = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    lines = text.split("\n")
    if not lines or lines[0].strip() != "---":
        return None, [
            Problem(
                1,
                "The file does not start with '---': "
                "a case begins with YAML front matter.",
            )
        ]
    closing = next(
        (i for i in range(1, len(lines)) if lines[i].strip() in ("---", "...")), None
    )
    if closing is None:
        return None, [
            Problem(1, "The front matter opened on line 1 is never closed with '---'.")
        ]

    front_text = "\n".join(lines[1:closing])
    body = "\n".join(lines[closing + 1 :])
    body_line = closing + 2
    try:
        meta, key_lines = _load_front_matter(front_text)
    except yaml.YAMLError as exc:
        return None, [_yaml_problem(exc)]
    if not isinstance(meta, dict):
        return None, [
            Problem(2, "The front matter must be a mapping of keys to values.")
        ]

    problems = _check_fields(path, meta, key_lines)
    sections, section_problems = _split_sections(body, body_line)
    problems += section_problems
    if problems:
        return None, problems
    case = Case(
        id=meta["id"],
        title=meta["title"].strip(),
        title_zh=meta["title_zh"].strip(),
        tags=tuple(meta["tags"]),
        symptoms=tuple(s.strip() for s in meta["symptoms"]),
        environment=meta["environment"].strip(),
        created=_as_date(meta["created"]) or date.min,
        updated=_as_date(meta["updated"]) or date.min,
        body=body,
        sections=sections,
        extra={key: meta[key] for key in RESERVED_FIELDS if key in meta},
        id_line=key_lines.get("id", 2),
        lines={
            path: line
            for path, line in key_lines.items()
            if path.split(".")[0].split("[")[0] in RESERVED_FIELDS
        },
    )
    return case, []


def _load_front_matter(front_text: str) -> tuple[Any, dict[str, int]]:
    """Load YAML and note the 1-based file line of every top-level key."""
    loader = SAFE_LOADER(front_text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, {}
        _check_nodes(node)
        try:
            value = loader.construct_document(node)
        except (ValueError, OverflowError, AttributeError) as exc:
            # A date such as 2024-13-45 has the form of a date but is none;
            # tagged !!timestamp, it does not even match the form.
            reason = "not a date" if isinstance(exc, AttributeError) else exc
            raise yaml.MarkedYAMLError(
                problem=f"a value cannot be read ({reason})",
                problem_mark=_unreadable_date(loader, node) or node.start_mark,
            ) from exc
    finally:
        loader.dispose()
    key_lines: dict[str, int] = {}
    _note_lines(node, "", key_lines)
    return value, key_lines


def _check_nodes(root: yaml.Node) -> None:
    """Refuse what YAML allows but a case file should not hold.

    A node used twice, which only an alias (``*name``) makes: nested aliases
    expand exponentially once walked or saved (a few lines can stand for
    gigabytes). And a key given twice in one mapping, of which YAML keeps
    the last without a word.

    Raises:
        yaml.MarkedYAMLError: At the line of the repeated node or key.
    """
    seen: set[int] = set()
    pending: list[tuple[yaml.Node, yaml.Mark]] = [(root, root.start_mark)]
    while pending:
        node, used_at = pending.pop()
        if id(node) in seen:
            raise yaml.MarkedYAMLError(
                problem="YAML aliases (*name) are not allowed in a case file; "
                "write the value out",
                problem_mark=used_at,
            )
        seen.add(id(node))
        if isinstance(node, yaml.MappingNode):
            _refuse_repeated_keys(node)
            for key_node, value_node in node.value:
                pending.append((key_node, key_node.start_mark))
                pending.append((value_node, key_node.start_mark))
        elif isinstance(node, yaml.SequenceNode):
            pending.extend((item, node.start_mark) for item in node.value)


def _refuse_repeated_keys(mapping: yaml.MappingNode) -> None:
    first_line: dict[str, int] = {}
    for key_node, _value in mapping.value:
        if not isinstance(key_node, yaml.ScalarNode):
            continue
        if key_node.value in first_line:
            raise yaml.MarkedYAMLError(
                problem=f"the key {key_node.value!r} is given twice (first on "
                f"line {first_line[key_node.value]})",
                problem_mark=key_node.start_mark,
            )
        first_line[key_node.value] = key_node.start_mark.line + 2


def _unreadable_date(loader: Any, root: yaml.Node) -> yaml.Mark | None:
    """Return where the first date that is not a real date stands, if any."""
    pending = [root]
    while pending:
        node = pending.pop(0)
        if isinstance(node, yaml.ScalarNode) and node.tag.endswith(":timestamp"):
            try:
                loader.construct_yaml_timestamp(node)
            except (ValueError, OverflowError, AttributeError):
                return node.start_mark
        elif isinstance(node, yaml.MappingNode):
            pending.extend(part for pair in node.value for part in pair)
        elif isinstance(node, yaml.SequenceNode):
            pending.extend(node.value)
    return None


def _note_lines(node: yaml.Node, path: str, lines: dict[str, int]) -> None:
    """Record the 1-based file line of every mapping key and list item under ``node``."""
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            child = f"{path}.{key_node.value}" if path else str(key_node.value)
            lines[child] = key_node.start_mark.line + 2
            _note_lines(value_node, child, lines)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            child = f"{path}[{index}]"
            lines[child] = item.start_mark.line + 2
            _note_lines(item, child, lines)


def _yaml_problem(exc: yaml.YAMLError) -> Problem:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    line = mark.line + 2 if mark is not None else 2
    reason = getattr(exc, "problem", None) or str(exc)
    return Problem(line, f"Broken YAML in the front matter: {reason}.")


def _check_fields(
    path: Path, meta: dict[Any, Any], key_lines: dict[str, int]
) -> list[Problem]:
    problems: list[Problem] = []

    def at(key: str) -> int:
        return key_lines.get(key, 1)

    for key in meta:
        if key not in KNOWN_FIELDS:
            problems.append(
                Problem(
                    at(str(key)),
                    f"Unknown field {key!r}; known fields: {KNOWN_FIELD_LIST}.",
                )
            )
    missing = [key for key in REQUIRED_FIELDS if key not in meta]
    for key in missing:
        problems.append(Problem(1, f"Missing required field {key!r}."))

    case_id = meta.get("id")
    if "id" in meta:
        if not isinstance(case_id, str) or not KEBAB.match(case_id):
            problems.append(
                Problem(
                    at("id"),
                    f"The id {case_id!r} is not kebab-case "
                    "(lowercase words joined by '-').",
                )
            )
        elif case_id != path.stem:
            problems.append(
                Problem(
                    at("id"),
                    f"The id {case_id!r} differs from the file name {path.name!r}; "
                    "rename one so they match.",
                )
            )
    for key in ("title", "title_zh", "environment"):
        if key in meta and (not isinstance(meta[key], str) or not meta[key].strip()):
            problems.append(
                Problem(at(key), f"The field {key!r} must be non-empty text.")
            )
    if (
        isinstance(meta.get("title_zh"), str)
        and meta["title_zh"].strip()
        and not CJK.search(meta["title_zh"])
    ):
        problems.append(
            Problem(
                at("title_zh"),
                f"The field 'title_zh' has no Chinese text: {meta['title_zh']!r}.",
            )
        )
    problems += _check_tags(meta, at)
    problems += _check_symptoms(meta, at)
    problems += _check_dates(meta, at)
    return problems


def _check_tags(meta: dict[Any, Any], at: Any) -> list[Problem]:
    tags = meta.get("tags")
    if "tags" not in meta:
        return []
    if not isinstance(tags, list) or not tags:
        return [Problem(at("tags"), "The field 'tags' must be a non-empty list.")]
    bad = [tag for tag in tags if not isinstance(tag, str) or not KEBAB.match(tag)]
    if bad:
        return [
            Problem(
                at("tags"), f"Tags must be lowercase kebab-case words; not {bad[0]!r}."
            )
        ]
    return []


def _check_symptoms(meta: dict[Any, Any], at: Any) -> list[Problem]:
    symptoms = meta.get("symptoms")
    if "symptoms" not in meta:
        return []
    if not isinstance(symptoms, list) or not symptoms:
        return [
            Problem(
                at("symptoms"),
                "The field 'symptoms' must be a non-empty list of short phrases.",
            )
        ]
    if any(not isinstance(s, str) or not s.strip() for s in symptoms):
        return [Problem(at("symptoms"), "Every symptom must be non-empty text.")]
    if not any(CJK.search(s) for s in symptoms) or not any(
        LATIN.search(s) and not CJK.search(s) for s in symptoms
    ):
        return [
            Problem(
                at("symptoms"),
                "The symptoms must include phrases in both Chinese and English.",
            )
        ]
    return []


def _check_dates(meta: dict[Any, Any], at: Any) -> list[Problem]:
    problems: list[Problem] = []
    for key in ("created", "updated"):
        if key in meta and _as_date(meta[key]) is None:
            problems.append(
                Problem(
                    at(key),
                    f"The field {key!r} is not a date (YYYY-MM-DD): {meta[key]!r}.",
                )
            )
    created, updated = _as_date(meta.get("created")), _as_date(meta.get("updated"))
    if created and updated and updated < created:
        problems.append(
            Problem(
                at("updated"),
                f"'updated' ({updated}) is earlier than 'created' ({created}).",
            )
        )
    return problems


def _as_date(value: Any) -> date | None:
    if isinstance(value, datetime):
        return value.date()  # A time of day is more than a case needs.
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            return None
    return None


def _split_sections(body: str, first_line: int) -> tuple[dict[str, str], list[Problem]]:
    """Split the body at second-level headings and check the required ones."""
    sections: dict[str, str] = {}
    current: str | None = None
    buffer: list[str] = []
    in_fence = False
    for line in body.split("\n"):
        if FENCE.match(line):
            in_fence = not in_fence
        match = None if in_fence else HEADING.match(line)
        if match:
            if current is not None:
                sections[current] = "\n".join(buffer).strip()
            current, buffer = _section_key(match.group(1)), []
        else:
            buffer.append(line)
    if current is not None:
        sections[current] = "\n".join(buffer).strip()

    problems = [
        Problem(first_line, f"Missing section '## {english} / {chinese}'.")
        for key, english, chinese, required in SECTIONS
        if required and not sections.get(key)
    ]
    return {key: text for key, text in sections.items() if key}, problems


def _section_key(heading: str) -> str:
    """Map a heading such as 'Root cause / 根因' to its key, or to itself."""
    names = {part.strip().lower() for part in heading.split("/")}
    for key, english, chinese, _required in SECTIONS:
        if english.lower() in names or chinese in names:
            return key
    return heading.strip()
