"""Text analysis shared by indexing and querying: jieba words, stems, identifiers."""

from __future__ import annotations

import logging
import re
import threading
from collections import Counter
from collections.abc import Iterable, Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any

import jieba
from whoosh.analysis import Token, Tokenizer
from whoosh.formats import Frequency
from whoosh.lang.porter import stem
from whoosh.system import pack_uint

log = logging.getLogger(__name__)

CJK_OR_WORD = re.compile(
    r"(?P<cjk>[\u3400-\u9fff\uf900-\ufaff]+)|(?P<latin>[A-Za-z0-9]+)"
)
CJK_WORD = re.compile(r"^[\u3400-\u9fff\uf900-\ufaff]+$")
ASCII_WORD = re.compile(r"^[0-9a-z][0-9a-z_]*$")
# Dotted, slashed, colon or dash-joined names: domains, IPs, paths, commands' flags.
IDENTIFIER = re.compile(
    r"(?<![A-Za-z0-9_./:-])/?[A-Za-z0-9][A-Za-z0-9_.:/-]*[A-Za-z0-9]"
)
IPV4_PREFIX = re.compile(r"^(\d{1,3}(?:\.\d{1,3}){1,3})(?:/\d{1,2})?$")
IDENT_JOINERS = re.compile(r"[.:/\-_]")
MARKDOWN_NOISE = re.compile(
    r"(```\w*|~~~|\*\*|__|`|^#+\s*|^\s*[-*+]\s+|^\s*>\s?)", re.MULTILINE
)

ENGLISH_STOP_WORDS = frozenset(
    "a an and are as at be by can do does for from has have if in into is it its "
    "may of on or so than that the then this to was we were when which will with "
    "you your".split()
)
CHINESE_STOP_WORDS = frozenset(
    "的 了 和 是 在 也 就 都 而 及 与 着 或 一个 这 那 吗 呢 吧".split()
)

_jieba_lock = threading.Lock()
_jieba_ready = False


def prepare_jieba(cache_dir: Path) -> None:
    """Load jieba's dictionary once, quietly, with its cache in ``cache_dir``.

    The first call costs about half a second; call it from a worker thread.
    """
    global _jieba_ready
    with _jieba_lock:
        if _jieba_ready:
            return
        jieba.setLogLevel(logging.WARNING)
        cache_dir.mkdir(parents=True, exist_ok=True)
        jieba.dt.tmp_dir = str(cache_dir)
        jieba.initialize()
        _jieba_ready = True
    log.debug("jieba dictionary loaded, cache in %s", cache_dir)


@lru_cache(maxsize=50_000)
def normalise_word(word: str) -> str | None:
    """Return the indexed form of one jieba word, or None to drop it."""
    word = word.strip().lower()
    if CJK_WORD.match(word):
        return None if word in CHINESE_STOP_WORDS else word
    if not ASCII_WORD.match(word) or len(word) < 2 or word in ENGLISH_STOP_WORDS:
        return None
    return word if word.isdigit() else str(stem(word))


def words(text: str) -> Iterator[tuple[str, int, int]]:
    """Yield ``(term, start, end)`` for every indexed word of ``text``.

    Only runs of Chinese go through jieba; its search mode yields the parts of
    a long word before the word itself, so one phrase gives both 防火 and 防火墙.
    Everything else is split into letters-and-digits words by a regex, which
    gives the same words several times faster than jieba's own walk.
    """
    for run in CJK_OR_WORD.finditer(text):
        if run.lastgroup == "latin":
            pieces: Iterable[tuple[str, int, int]] = [
                (run.group(), 0, len(run.group()))
            ]
        else:
            pieces = _segmented(run.group())
        for word, start, end in pieces:
            term = normalise_word(word)
            if term is not None:
                yield term, run.start() + start, run.start() + end


@lru_cache(maxsize=200_000)
def _segmented(chinese: str) -> tuple[tuple[str, int, int], ...]:
    """Return jieba's search-mode words of one run of Chinese, with offsets.

    Case files repeat their phrases (symptoms, headings, set wording), and
    jieba costs more per run than the cache: a full build spent a third of
    its time here.
    """
    return tuple(jieba.tokenize(chinese, mode="search"))


def identifiers(text: str) -> list[str]:
    """Return the joined names in ``text`` (domains, IPs, paths), whole and in parts.

    ``www.paypalobjects.com`` gives itself and ``paypalobjects.com``;
    ``10.20.0.9`` gives itself, ``10.20.0`` and ``10.20``, and a range such as
    ``10.20.0.0/16`` its address as well, so that a query for any of them
    finds it.
    """
    found: list[str] = []
    for match in IDENTIFIER.finditer(text):
        name = match.group(0).lower().rstrip(".:/-")
        if not IDENT_JOINERS.search(name):
            continue
        found.append(name)
        address = IPV4_PREFIX.match(name)
        if address:
            octets = address.group(1).split(".")
            found.extend(".".join(octets[:n]) for n in range(2, len(octets) + 1))
        elif "." in name:
            parts = name.split(".")
            found.extend(".".join(parts[i:]) for i in range(1, len(parts) - 1))
    return list(dict.fromkeys(found))


def plain_text(markdown: str) -> str:
    """Strip Markdown punctuation, keeping the words and the commands."""
    return MARKDOWN_NOISE.sub("", markdown)


class WordTokenizer(Tokenizer):  # type: ignore[misc]
    """A Whoosh tokenizer over :func:`words`, with positions that count words."""

    def __call__(
        self,
        value: str,
        positions: bool = False,
        chars: bool = False,
        keeporiginal: bool = False,
        removestops: bool = True,
        start_pos: int = 0,
        start_char: int = 0,
        mode: str = "",
        **kwargs: Any,
    ) -> Iterator[Token]:
        token = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        position, covered_to = start_pos - 1, -1
        for term, start, end in words(value):
            if start >= covered_to:
                position += 1
            covered_to = max(covered_to, end)
            token.text = term
            token.stopped = False
            token.boost = 1.0
            if keeporiginal:
                token.original = value[start:end]
            if positions:
                token.pos = position
            if chars:
                token.startchar, token.endchar = start_char + start, start_char + end
            yield token


class WordCounts(Frequency):  # type: ignore[misc]
    """Whoosh's Frequency format, counting :func:`words` without token objects.

    Indexing asks the format for each distinct word of a field with its count;
    for a :class:`WordTokenizer` the words are counted directly, which spares
    a token object and several generator steps per word. Other analyzers
    (and query-time parsing) go the usual way. The postings are the same.
    """

    def word_values(
        self, value: Any, analyzer: Any, **kwargs: Any
    ) -> Iterator[tuple[str, int, float, bytes]]:
        """Yield (word, count, weight, encoded count) for each distinct word."""
        if not isinstance(analyzer, WordTokenizer) or not isinstance(value, str):
            yield from super().word_values(value, analyzer, **kwargs)
            return
        boost = self.field_boost
        for word, count in Counter(term for term, _s, _e in words(value)).items():
            yield word, count, count * boost, pack_uint(count)
