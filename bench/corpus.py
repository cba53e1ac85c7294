"""Synthetic bilingual helpdesk cases, and queries that each expect one of them.

The cases are built from pools of everyday network-helpdesk vocabulary in
English and Chinese. A few cases carry a planted signature (an internal
system's code name, a building, a domain, an error line, a command) and a
query names that signature together with common words, so that exactly one
case holds every word of the query. Everything follows from the seed.
"""

from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from vocabulary import (
    ANALYSIS_STORIES,
    CAUSE_STORIES,
    CAUSES,
    CITIES,
    COMMANDS,
    COMMON_QUERIES,
    COMPANIES,
    ERRORS,
    FIX_STORIES,
    FIXES,
    ISPS,
    PLACES,
    PREVENTIONS,
    RARE_COMMANDS,
    RARE_ERRORS,
    RARE_PLACES_ZH,
    ROLES,
    SERVICES,
    SUBJECTS,
    SYMPTOM_STORIES,
    SYMPTOMS,
    TAGS,
    TLDS,
)

SEED = 20240428

# How many queries of each kind expect a case; decoys share the signature.
QUERY_PLAN = {
    "english": 10,
    "chinese": 10,
    "mixed": 8,
    "typo": 8,
    "identifier": 10,
    "error": 6,
    "command": 6,
    "rare": 6,
}
DECOYS_PER_SIGNATURE = 2

Slots = tuple[int, list[int]]
"""The index of a query's case and those of its decoys."""


@dataclass
class Doc:
    """One synthetic case before it is written."""

    case_id: str
    title: str
    title_zh: str
    tags: list[str]
    symptoms: list[str]
    environment: str
    created: date
    updated: date
    sections: dict[str, list[str]]
    """Paragraphs by section heading."""
    subject: tuple[str, str] = ("", "")
    symptom: tuple[str, str] = ("", "")
    index: int = 0
    plants: list[str] = field(default_factory=list)
    """Text planted for a query, for checking the corpus."""

    def markdown(self) -> str:
        """Render the case file: YAML front matter, then the sections."""
        quoted = [json.dumps(s, ensure_ascii=False) for s in self.symptoms]
        front = [
            "---",
            f"id: {self.case_id}",
            f"title: {json.dumps(self.title, ensure_ascii=False)}",
            f"title_zh: {json.dumps(self.title_zh, ensure_ascii=False)}",
            f"tags: [{', '.join(self.tags)}]",
            "symptoms:",
            *(f"  - {symptom}" for symptom in quoted),
            f"environment: {json.dumps(self.environment, ensure_ascii=False)}",
            f"created: {self.created.isoformat()}",
            f"updated: {self.updated.isoformat()}",
            "---",
            "",
            "",
        ]
        body = [
            f"## {heading}\n\n" + "\n\n".join(paragraphs) + "\n"
            for heading, paragraphs in self.sections.items()
        ]
        return "\n".join(front) + "\n".join(body)


@dataclass(frozen=True)
class BenchQuery:
    """A query of the mix, and the case that should come first (if any)."""

    text: str
    kind: str
    expected: str | None
    must_contain: tuple[str, ...] = ()
    """Lower-case pieces only the expected case holds all of."""


@dataclass
class Corpus:
    """The generated cases and the query mix over them."""

    docs: list[Doc]
    queries: list[BenchQuery]

    def write(self, folder: Path) -> None:
        """Write one Markdown file per case into ``folder``."""
        folder.mkdir(parents=True, exist_ok=True)
        for doc in self.docs:
            (folder / f"{doc.case_id}.md").write_text(doc.markdown(), encoding="utf-8")

    def check(self) -> None:
        """Fail unless each query's pieces occur together in its expected case only."""
        texts = {doc.case_id: doc.markdown().lower() for doc in self.docs}
        for query in self.queries:
            if query.expected is None:
                continue
            pieces = [piece.lower() for piece in query.must_contain]
            patterns = [(piece, _whole(piece)) for piece in pieces]
            holders = [
                case_id
                for case_id, text in texts.items()
                if all(p in text and pattern.search(text) for p, pattern in patterns)
            ]
            if holders != [query.expected]:
                raise ValueError(
                    f"Query {query.text!r} should single out {query.expected!r}, "
                    f"but its pieces are in {holders[:5]!r}."
                )


class CorpusBuilder:
    """Draws cases and queries from the pools with one seeded generator."""

    def __init__(self, count: int, seed: int = SEED) -> None:
        self.count = count
        self.rng = random.Random(seed)
        self.code_names = self._code_names(40)
        self._serial = 0

    def build(self) -> Corpus:
        """Return ``count`` cases and the query mix that goes with them."""
        docs = [self._doc(i) for i in range(self.count)]
        special = self.rng.sample(range(self.count), self._special_count())
        queries = self._plant_all(docs, special)
        corpus = Corpus(docs, queries + self._common_queries())
        corpus.check()
        return corpus

    def _special_count(self) -> int:
        with_decoys = ("english", "chinese", "mixed", "typo")
        decoys = sum(QUERY_PLAN[k] for k in with_decoys) * DECOYS_PER_SIGNATURE
        return sum(QUERY_PLAN.values()) + decoys

    def _code_names(self, count: int) -> list[str]:
        """Invent internal system code names that no pool word contains."""
        vocabulary = json.dumps(
            [SUBJECTS, SYMPTOMS, CITIES, PLACES, CAUSES, FIXES, ERRORS, COMMANDS]
            + [RARE_ERRORS, RARE_COMMANDS, SERVICES, ROLES, TAGS]
        ).lower()
        consonants, vowels = "bdfgklmnprstvz", "aeiou"
        names: list[str] = []
        while len(names) < count:
            name = "".join(
                self.rng.choice(consonants) + self.rng.choice(vowels) for _ in range(3)
            ) + self.rng.choice(["n", "x", "r", ""])
            if name not in vocabulary and all(_far_apart(name, n) for n in names):
                names.append(name)
        return names

    def _doc(
        self,
        index: int,
        subject: tuple[str, str] | None = None,
        symptom: tuple[str, str] | None = None,
    ) -> Doc:
        rng = self.rng
        subject = subject or rng.choice(SUBJECTS)
        symptom = symptom or rng.choice(SYMPTOMS)
        city, place = rng.choice(CITIES), rng.choice(PLACES)
        cause, fix = rng.choice(CAUSES), rng.choice(FIXES)
        isps = rng.sample(ISPS, rng.randint(1, 2))
        created = date(2019, 1, 1) + timedelta(days=rng.randint(0, 2300))
        slug = f"{subject[0]}-{symptom[0]}".lower().replace(" ", "-")
        facts = self._facts(city)
        return Doc(
            case_id=f"{_kebab(slug)}-{index:05d}",
            title=f"{subject[0]} {symptom[0]} at the {city[0]} {place[0]}",
            title_zh=f"{city[1]}{place[1]}{subject[1]}{symptom[1]}",
            tags=sorted(rng.sample(TAGS, rng.randint(2, 4))),
            symptoms=self._symptom_phrases(subject, symptom, facts),
            environment=(
                f"{city[0]} {place[0]}, uplinks: {', '.join(i[0] for i in isps)}"
                f" / {city[1]}{place[1]}，出口：{'、'.join(i[1] for i in isps)}"
            ),
            created=created,
            updated=created + timedelta(days=rng.randint(0, 400)),
            sections=self._sections(subject, symptom, city, place, cause, fix, facts),
            subject=subject,
            symptom=symptom,
            index=index,
        )

    def _redraw(
        self,
        docs: list[Doc],
        index: int,
        subject: tuple[str, str] | None = None,
        symptom: tuple[str, str] | None = None,
    ) -> Doc:
        """Draw case ``index`` again with the subject and symptom a query needs."""
        old = docs[index]
        docs[index] = self._doc(index, subject or old.subject, symptom or old.symptom)
        return docs[index]

    def _facts(self, city: tuple[str, str, str]) -> dict[str, str]:
        """Draw the hosts, addresses and names a case's story mentions."""
        rng = self.rng
        return {
            "ip": f"10.{rng.randint(0, 199)}.{rng.randint(0, 255)}.{rng.randint(2, 254)}",
            "peer": f"192.168.{rng.randint(0, 99)}.{rng.randint(2, 254)}",
            "dns": rng.choice(["10.0.0.53", "223.5.5.5", "114.114.114.114"]),
            "domain": f"{rng.choice(SERVICES)}.{rng.choice(COMPANIES)}.{rng.choice(TLDS)}",
            "host": f"{city[2]}-{rng.choice(ROLES)}{rng.randint(1, 40):02d}",
            "error": rng.choice(ERRORS),
            "loss": str(rng.choice([2, 5, 8, 12, 20, 30])),
            "rtt": str(rng.choice([35, 80, 120, 180, 260, 400])),
            "rate": str(rng.choice([50, 100, 300, 800])),
        }

    def _symptom_phrases(
        self,
        subject: tuple[str, str],
        symptom: tuple[str, str],
        facts: dict[str, str],
    ) -> list[str]:
        return [
            f"{subject[0]} {symptom[0]}",
            f"{subject[1]}{symptom[1]}",
            f"{subject[0]} error: {facts['error']}",
            f"{subject[1]}报错 {facts['error']}",
        ]

    def _sections(
        self,
        subject: tuple[str, str],
        symptom: tuple[str, str],
        city: tuple[str, str, str],
        place: tuple[str, str],
        cause: tuple[str, str],
        fix: tuple[str, str],
        facts: dict[str, str],
    ) -> dict[str, list[str]]:
        rng = self.rng
        slots = facts | {
            "subject": subject[0],
            "subject_zh": subject[1],
            "symptom": symptom[0],
            "symptom_zh": symptom[1],
            "city": city[0],
            "city_zh": city[1],
            "place": place[0],
            "place_zh": place[1],
            "cause": cause[0],
            "cause_zh": cause[1],
            "fix": fix[0],
            "fix_zh": fix[1],
        }
        commands = [c.format(**facts) for c in rng.sample(COMMANDS, rng.randint(1, 3))]
        analysis = self._story(ANALYSIS_STORIES, slots, rng.randint(1, 2))
        analysis.insert(1, "```shell\n" + "\n".join(commands) + "\n```")
        sections = {
            "Symptom / 现象": self._story(SYMPTOM_STORIES, slots, 1),
            "Analysis / 分析": analysis,
            "Root cause / 根因": self._story(CAUSE_STORIES, slots, 1),
            "Resolution / 处理": self._story(FIX_STORIES, slots, 1),
        }
        if rng.random() < 0.5:
            advice = rng.sample(PREVENTIONS, rng.randint(1, 3))
            sections["Prevention / 预防"] = [
                " ".join(f"{en}." for en, _zh in advice),
                "".join(f"{zh}。" for _en, zh in advice),
            ]
        return sections

    def _story(
        self, stories: list[tuple[str, str]], slots: dict[str, str], count: int
    ) -> list[str]:
        """Fill ``count`` story templates: English paragraphs, then Chinese ones."""
        chosen = self.rng.sample(stories, count)
        english = [en.format(**slots) for en, _zh in chosen]
        return english + [zh.format(**slots) for _en, zh in chosen]

    def _plant_all(self, docs: list[Doc], special: list[int]) -> list[BenchQuery]:
        """Plant each query's signature in its case (and its decoys)."""
        slots = iter(special)
        names = iter(self.code_names)
        places = iter(RARE_PLACES_ZH)
        queries: list[BenchQuery] = []
        for kind, count in QUERY_PLAN.items():
            for n in range(count):
                target = docs[next(slots)]
                if kind in ("english", "mixed", "typo"):
                    decoys = [next(slots) for _ in range(DECOYS_PER_SIGNATURE)]
                    query = self._code_name_query(
                        kind, n, next(names), docs, (target.index, decoys)
                    )
                    queries.append(query)
                elif kind == "chinese":
                    decoys = [next(slots) for _ in range(DECOYS_PER_SIGNATURE)]
                    query = self._place_query(
                        next(places), docs, (target.index, decoys)
                    )
                    queries.append(query)
                elif kind == "identifier":
                    queries.append(self._identifier_query(n, target))
                elif kind == "error":
                    queries.append(self._error_query(RARE_ERRORS[n], target))
                elif kind == "command":
                    queries.append(self._command_query(RARE_COMMANDS[n], target))
                else:
                    term = next(names) if n % 2 == 0 else next(places)
                    queries.append(self._rare_query(term, target))
        return queries

    def _code_name_query(
        self, kind: str, n: int, name: str, docs: list[Doc], slots: Slots
    ) -> BenchQuery:
        """An internal system's code name with a symptom; decoys share the name."""
        symptom = SYMPTOMS[self._serial % len(SYMPTOMS)]
        self._serial += 1
        target = self._redraw(docs, slots[0], symptom=symptom)
        _plant_code_name(target, name, in_title=n % 2 == 0)
        for i, index in enumerate(slots[1]):
            other = SYMPTOMS[(self._serial + 3 + 5 * i) % len(SYMPTOMS)]
            decoy = self._redraw(docs, index, symptom=other)
            _plant_code_name(decoy, name, in_title=i == 0)

        if kind == "mixed":
            text = f"{name.capitalize()} {symptom[1]}"
            pieces = (name, symptom[1])
        elif kind == "typo" and n % 2 == 0:
            text = f"{_misspell(name, n)} {symptom[0]}"
            pieces = (name, *symptom[0].lower().split())
        elif kind == "typo":
            text = f"{name} {_misspell_phrase(symptom[0])}"
            pieces = (name, *symptom[0].lower().split())
        else:
            text = f"{name.capitalize()} {symptom[0]}"
            pieces = (name, *symptom[0].lower().split())
        return BenchQuery(text, kind, target.case_id, pieces)

    def _place_query(self, place: str, docs: list[Doc], slots: Slots) -> BenchQuery:
        """A building's name with a device and a symptom, all in Chinese."""
        subject = SUBJECTS[self._serial % len(SUBJECTS)]
        symptom = SYMPTOMS[(self._serial * 7) % len(SYMPTOMS)]
        self._serial += 1
        target = self._redraw(docs, slots[0], subject, symptom)
        _plant_place(target, place)
        for i, index in enumerate(slots[1]):
            decoy = self._redraw(
                docs,
                index,
                SUBJECTS[(self._serial + 2 + i) % len(SUBJECTS)],
                SYMPTOMS[(self._serial * 7 + 5 + i) % len(SYMPTOMS)],
            )
            _plant_place(decoy, place)
        text = f"{place} {subject[1]} {symptom[1]}"
        return BenchQuery(
            text, "chinese", target.case_id, (place, subject[1], symptom[1])
        )

    def _identifier_query(self, n: int, target: Doc) -> BenchQuery:
        """A domain (whole or its registered part), an address or a host name."""
        name = self.code_names[-1 - n]
        domain = f"sso.{name}-pay.com.cn"
        address = f"10.{210 + n}.{17 + 3 * n}.{101 + n}"
        host = f"{name[:3]}-edge-fw{n + 1:02d}"
        target.sections["Analysis / 分析"].insert(
            0,
            f"The browser waited on {domain}, which answers from {address}; the "
            f"firewall {host} logged the drops. 浏览器卡在 {domain}（{address}），"
            f"防火墙 {host} 上有丢弃记录。",
        )
        target.plants.append(domain)
        text = [domain, f"{name}-pay.com.cn", address, host, f"{host} {address}"][n % 5]
        return BenchQuery(text, "identifier", target.case_id, tuple(text.split()))

    def _error_query(self, error: str, target: Doc) -> BenchQuery:
        target.sections["Symptom / 现象"].append(
            f'The device log repeats "{error}" every few seconds. '
            f'设备日志每隔几秒出现 "{error}"。'
        )
        target.plants.append(error)
        return BenchQuery(error, "error", target.case_id, (error.lower(),))

    def _command_query(self, command: tuple[str, str], target: Doc) -> BenchQuery:
        full, typed = command
        target.sections["Resolution / 处理"].append(
            f"```shell\n{full}\n```\n\nAfter `{full}` the problem did not return. "
            f"执行 `{full}` 后问题没有再出现。"
        )
        target.plants.append(full)
        pieces = tuple(typed.lower().split())
        return BenchQuery(typed, "command", target.case_id, pieces)

    def _rare_query(self, term: str, target: Doc) -> BenchQuery:
        target.sections["Analysis / 分析"].append(
            f"The same fault was seen once before near {term}. 之前在{term}也出现过一次。"
        )
        target.plants.append(term)
        return BenchQuery(term, "rare", target.case_id, (term,))

    def _common_queries(self) -> list[BenchQuery]:
        return [BenchQuery(text, "common", None) for text in COMMON_QUERIES]


def _plant_code_name(doc: Doc, name: str, in_title: bool) -> None:
    system = name.capitalize()
    if in_title:
        doc.title = f"{system}: {doc.title}"
        doc.title_zh = f"{system} {doc.title_zh}"
    doc.sections["Symptom / 现象"].insert(
        0,
        f"Only people using the {system} system are affected. "
        f"只有使用 {system} 系统的人受影响。",
    )
    doc.plants.append(name)


def _plant_place(doc: Doc, place: str) -> None:
    doc.title_zh = f"{place}{doc.title_zh}"
    doc.environment = f"{doc.environment}，{place}"
    doc.plants.append(place)


def _misspell(word: str, n: int) -> str:
    """Double the last letter or change an inner vowel, as a hurried typist does."""
    if n % 4 == 0:
        return word + word[-1]
    vowels = "aeiou"
    i = next(i for i in range(2, len(word)) if word[i] in vowels)
    swapped = vowels[(vowels.index(word[i]) + 1) % len(vowels)]
    return word[:i] + swapped + word[i + 1 :]


def _misspell_phrase(phrase: str) -> str:
    """Change an inner vowel of the longest word of a phrase that has one."""
    words = phrase.split()
    candidates = [i for i, w in enumerate(words) if any(c in "aeiou" for c in w[2:])]
    longest = max(candidates, key=lambda i: len(words[i]))
    words[longest] = _misspell(words[longest].lower(), 1)
    return " ".join(words)


def _whole(piece: str) -> re.Pattern[str]:
    """Match ``piece`` as whole words (Chinese has no word edges to check)."""
    before = r"(?<![a-z0-9])" if piece[0].isascii() else ""
    after = r"(?![a-z0-9])" if piece[-1].isascii() else ""
    return re.compile(before + re.escape(piece) + after)


def _kebab(text: str) -> str:
    kept = "".join(c if c.isalnum() else "-" for c in text.lower())
    return "-".join(part for part in kept.split("-") if part)


def _far_apart(a: str, b: str) -> bool:
    """True when two names differ in at least three places (a cheap distance)."""
    if abs(len(a) - len(b)) >= 3:
        return True
    return sum(x != y for x, y in zip(a, b, strict=False)) + abs(len(a) - len(b)) >= 3


def build_corpus(count: int, seed: int = SEED) -> Corpus:
    """Return ``count`` synthetic cases and the query mix over them."""
    return CorpusBuilder(count, seed).build()
