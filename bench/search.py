"""Search benchmark: netcase's index against SQLite FTS5 (trigram) on the same cases.

Usage::

    python bench/search.py [--sizes 1000,10000] [--out bench/results/search.md]

For each size N it writes N synthetic bilingual case files (``corpus.py``) to a
temporary folder, then measures each engine in its own child process, so that
one engine's memory high-water mark never counts against the other:

- netcase: ``KnowledgeBase.open()`` on a fresh ``NETCASE_HOME`` (SQL sync and
  Whoosh build; jieba's dictionary load is timed on its own before it and
  added to the build), then the start-up of the app after one case file was
  edited (a new ``KnowledgeBase`` opened, jieba already loaded), then the
  query mix through ``KnowledgeBase.search`` (ranking and snippets).
- FTS5: read and parse the same files with netcase's parser, insert them into
  an ``fts5(..., tokenize='trigram')`` table, then the same query mix as an OR
  of each query's pieces of three characters or more, ranked by ``bm25`` with
  netcase's field weights, with ``snippet()``.

Latency is measured over ``--passes`` timed passes of the mix after one warm-up
pass. Peak memory is the child's ``ru_maxrss`` minus its resident size after
imports, before jieba and the build: the growth of resident memory at its
highest point, Python heap and C libraries alike. Top-1 is the share of the
queries that expect a case whose first result is that case.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

from corpus import BenchQuery, build_corpus

BENCH_DIR = Path(__file__).resolve().parent
ENGINES = {"netcase": "netcase (Whoosh + jieba)", "fts5": "SQLite FTS5 trigram"}
GOALS = {"p95_ms": 16.0, "build_s": 10.0, "resync_s": 0.3}
FTS_WEIGHTS = (0.0, 4.0, 2.5, 2.0, 1.0)
PIECE_SPLIT = re.compile(r"[\s,;!?，。；：！？、（）()\"'“”]+")
EDIT_MARK = "## Resolution / 处理\n"
WORKER_TIMEOUT_S = 600


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark, or one engine's measurements when called as a worker."""
    args = _parser().parse_args(argv)
    if args.worker:
        result = WORKERS[args.worker](Path(args.dir), args.passes)
        print(json.dumps(result))
        return 0

    sizes = [int(size) for size in args.sizes.split(",")]
    results = [row for size in sizes for row in _measure_size(size, args.passes)]
    report = render(results, args.passes)
    print(report)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(report, encoding="utf-8")
    print(f"written to {out}", file=sys.stderr)
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes", default="1000,10000", help="case counts, comma-separated"
    )
    parser.add_argument("--out", default=str(BENCH_DIR / "results" / "search.md"))
    parser.add_argument(
        "--passes", type=int, default=3, help="timed passes of the query mix"
    )
    parser.add_argument("--worker", choices=sorted(ENGINES), help=argparse.SUPPRESS)
    parser.add_argument("--dir", help=argparse.SUPPRESS)
    return parser


def _measure_size(size: int, passes: int) -> list[dict[str, Any]]:
    """Write ``size`` cases to a temporary folder and measure both engines on them."""
    with tempfile.TemporaryDirectory(prefix=f"netcase-bench-{size}-") as tmp:
        folder = Path(tmp)
        started = time.perf_counter()
        corpus = build_corpus(size)
        corpus.write(folder / "kb")
        edit = next(doc.case_id for doc in corpus.docs if not doc.plants)
        spec = {"queries": [asdict(q) for q in corpus.queries], "edit": edit}
        (folder / "spec.json").write_text(json.dumps(spec, ensure_ascii=False))
        print(
            f"{size} cases written in {time.perf_counter() - started:.1f} s",
            file=sys.stderr,
        )
        return [_run_worker(engine, folder, size, passes) for engine in ENGINES]


def _run_worker(engine: str, folder: Path, size: int, passes: int) -> dict[str, Any]:
    command = [sys.executable, __file__, "--worker", engine, "--dir", str(folder)]
    command += ["--passes", str(passes)]
    env = {k: v for k, v in os.environ.items() if not k.startswith("NETCASE_")}
    env["NETCASE_HOME"] = str(folder / f"home-{engine}")
    done = subprocess.run(
        command,
        env=env,
        capture_output=True,
        text=True,
        timeout=WORKER_TIMEOUT_S,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"The {engine} worker failed:\n{done.stderr}")
    result: dict[str, Any] = json.loads(done.stdout)
    result.update(engine=engine, size=size)
    print(f"{engine} at {size}: {_summary(result)}", file=sys.stderr)
    return result


def _summary(result: dict[str, Any]) -> str:
    return (
        f"build {result['build_s']:.2f} s, p50 {result['p50_ms']:.2f} ms, "
        f"p95 {result['p95_ms']:.2f} ms, top-1 {result['top1_pct']:.0f}%"
    )


# Workers: each runs in a child process with its own NETCASE_HOME.


def netcase_worker(folder: Path, passes: int) -> dict[str, Any]:
    """Measure netcase: build, start after an edit, queries, memory."""
    # Imported here, not on first use, so that neither time nor memory counts them.
    import netcase.kb.catalog  # noqa: F401
    import netcase.kb.search  # noqa: F401
    from netcase.config import resolve_paths
    from netcase.kb.service import KnowledgeBase
    from netcase.kb.text import prepare_jieba

    spec = json.loads((folder / "spec.json").read_text(encoding="utf-8"))
    paths = resolve_paths(folder / "kb")
    base_mb = _rss_mb()

    jieba_s, _ = _timed(lambda: prepare_jieba(paths.home / "jieba"))
    jieba_mb = _rss_mb()
    open_s, report = _timed(KnowledgeBase(paths).open)
    reopen_s, _ = _timed(KnowledgeBase(paths).open)
    _edit_case(folder / "kb" / f"{spec['edit']}.md")
    app_kb = KnowledgeBase(paths)
    resync_s, resynced = _timed(app_kb.open)
    if len(resynced.read) != 1:
        raise RuntimeError(f"The re-sync read {resynced.read!r}, not one file.")

    def search(text: str) -> list[str]:
        return [hit.id for hit in app_kb.search(text, limit=20)]

    stats = run_mix(search, _queries(spec), passes)
    return stats | {
        "jieba_mb": jieba_mb - base_mb,
        "build_s": jieba_s + open_s,
        "jieba_s": jieba_s,
        "sync_s": report.duration_s,
        "index_s": open_s - report.duration_s,
        "reopen_s": reopen_s,
        "resync_s": resync_s,
        "peak_mb": _peak_mb() - base_mb,
    }


def fts5_worker(folder: Path, passes: int) -> dict[str, Any]:
    """Measure FTS5 trigram: build from the files, queries, memory."""
    from netcase.kb.case import read_case
    from netcase.kb.text import plain_text

    spec = json.loads((folder / "spec.json").read_text(encoding="utf-8"))
    base_mb = _rss_mb()

    started = time.perf_counter()
    rows = []
    for path in sorted((folder / "kb").glob("*.md")):
        case, _problems = read_case(path, path.read_text(encoding="utf-8"))
        if case is not None:
            rows.append(
                (
                    case.id,
                    f"{case.title}\n{case.title_zh}",
                    "\n".join(case.symptoms),
                    " ".join(case.tags),
                    f"{case.environment}\n{plain_text(case.body)}",
                )
            )
    parse_s = time.perf_counter() - started
    insert_s, connection = _timed(lambda: _fts_build(folder / "fts.db", rows))

    def search(text: str) -> list[str]:
        return [row[0] for row in _fts_search(connection, text)]

    stats = run_mix(search, _queries(spec), passes)
    return stats | {
        "build_s": parse_s + insert_s,
        "parse_s": parse_s,
        "insert_s": insert_s,
        "peak_mb": _peak_mb() - base_mb,
    }


def _fts_build(path: Path, rows: list[tuple[str, ...]]) -> sqlite3.Connection:
    connection = sqlite3.connect(path)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute(
        "CREATE VIRTUAL TABLE cases USING fts5("
        "id UNINDEXED, title, symptoms, tags, body, tokenize='trigram')"
    )
    with connection:
        connection.executemany("INSERT INTO cases VALUES (?, ?, ?, ?, ?)", rows)
    return connection


def fts_match(text: str) -> str:
    """Return the fair FTS5 form of a query: its pieces of 3+ characters, OR-ed.

    The trigram tokenizer cannot match a piece under three characters (速度,
    超时, IP), so those pieces are left out; a query of only such pieces
    matches nothing.
    """
    pieces = (piece.strip(".:-/") for piece in PIECE_SPLIT.split(text))
    kept = dict.fromkeys(piece for piece in pieces if len(piece) >= 3)
    return " OR ".join('"' + piece.replace('"', '""') + '"' for piece in kept)


def _fts_search(connection: sqlite3.Connection, text: str) -> list[tuple[str, str]]:
    match = fts_match(text)
    if not match:
        return []
    weights = ", ".join(str(w) for w in FTS_WEIGHTS)
    return connection.execute(
        f"SELECT id, snippet(cases, 4, '**', '**', '…', 16) FROM cases "
        f"WHERE cases MATCH ? ORDER BY bm25(cases, {weights}) LIMIT 20",
        (match,),
    ).fetchall()


WORKERS: dict[str, Callable[[Path, int], dict[str, Any]]] = {
    "netcase": netcase_worker,
    "fts5": fts5_worker,
}


def run_mix(
    search: Callable[[str], list[str]], queries: list[BenchQuery], passes: int
) -> dict[str, Any]:
    """Time the query mix: one warm-up pass that also scores top-1, then ``passes``."""
    first_ms, _ = _timed_ms(lambda: search(queries[0].text))
    ranked = {query.text: search(query.text) for query in queries}

    timings_ms: list[float] = []
    by_query_ms: dict[str, list[float]] = {query.text: [] for query in queries}
    for _ in range(passes):
        for query in queries:
            elapsed_ms, _ = _timed_ms(lambda q=query: search(q.text))
            timings_ms.append(elapsed_ms)
            by_query_ms[query.text].append(elapsed_ms)

    scored = [q for q in queries if q.expected is not None]
    firsts = {q.text: q.expected in ranked[q.text][:1] for q in scored}
    slowest = sorted(by_query_ms, key=lambda t: -statistics.median(by_query_ms[t]))
    return {
        "p50_ms": statistics.median(timings_ms),
        "p95_ms": _percentile(timings_ms, 95),
        "max_ms": max(timings_ms),
        "first_query_ms": first_ms,
        "top1_pct": 100.0 * sum(firsts.values()) / len(scored),
        "top1_by_kind": _share_by_kind(scored, firsts),
        "slowest": [(t, statistics.median(by_query_ms[t])) for t in slowest[:5]],
        "missed": [
            (q.text, (ranked[q.text] or ["nothing"])[0])
            for q in scored
            if not firsts[q.text]
        ],
    }


def _share_by_kind(
    queries: list[BenchQuery], firsts: dict[str, bool]
) -> dict[str, str]:
    kinds: dict[str, list[bool]] = {}
    for query in queries:
        kinds.setdefault(query.kind, []).append(firsts[query.text])
    return {kind: f"{sum(hits)}/{len(hits)}" for kind, hits in kinds.items()}


def _queries(spec: dict[str, Any]) -> list[BenchQuery]:
    return [
        BenchQuery(q["text"], q["kind"], q["expected"], tuple(q["must_contain"]))
        for q in spec["queries"]
    ]


def _edit_case(path: Path) -> None:
    """Change one case's body, as an engineer adding a line to the resolution does."""
    text = path.read_text(encoding="utf-8")
    added = "Checked again a week later: still fine. 一周后复查，仍然正常。\n\n"
    path.write_text(
        text.replace(EDIT_MARK, EDIT_MARK + "\n" + added, 1), encoding="utf-8"
    )


def _timed(action: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    value = action()
    return time.perf_counter() - started, value


def _timed_ms(action: Callable[[], Any]) -> tuple[float, Any]:
    elapsed_s, value = _timed(action)
    return elapsed_s * 1000.0, value


def _percentile(values: list[float], percent: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[percent - 1]


def _rss_mb() -> float:
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def _peak_mb() -> float:
    # Linux reports ru_maxrss in KiB.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# The report.


def render(results: list[dict[str, Any]], passes: int) -> str:
    """Return the Markdown report: the main table, goals, top-1 by kind, details."""
    lines = [
        "# Search benchmark",
        "",
        f"{os.cpu_count()} CPUs (load average {os.getloadavg()[0]:.1f} at the end), "
        f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}; "
        f"`python bench/search.py`; query latency over {passes} timed passes of "
        "the mix after a warm-up pass.",
        "",
        "| engine | cases | build s | re-sync s | p50 ms | p95 ms | peak MB | top-1 % |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    lines += [_table_row(result) for result in results]
    lines += ["", *_goal_lines(results), "", *_kind_table(results), ""]
    lines += ["## Details", "", *(_detail_lines(r) for r in results), ""]
    lines += _notes()
    return "\n".join(lines) + "\n"


def _table_row(result: dict[str, Any]) -> str:
    resync = f"{result['resync_s']:.3f}" if "resync_s" in result else "–"
    return (
        f"| {ENGINES[result['engine']]} | {result['size']:,} | "
        f"{result['build_s']:.2f} | {resync} | {result['p50_ms']:.2f} | "
        f"{result['p95_ms']:.2f} | {result['peak_mb']:.0f} | "
        f"{result['top1_pct']:.0f} |"
    )


def _goal_lines(results: list[dict[str, Any]]) -> list[str]:
    largest = max(r["size"] for r in results)
    ours = next(r for r in results if r["engine"] == "netcase" and r["size"] == largest)
    lines = [f"Goals for netcase at {largest:,} cases:", ""]
    for key, goal in GOALS.items():
        value = ours[key]
        verdict = "met" if value <= goal else "MISSED"
        lines.append(
            f"- {key.replace('_', ' ')}: {value:.3f} (goal <= {goal:g}) {verdict}"
        )
    lines.append("- TUI ready for typing: see `bench/tui_start.py`")
    return lines


def _kind_table(results: list[dict[str, Any]]) -> list[str]:
    kinds = list(results[0]["top1_by_kind"])
    lines = [
        "Expected case first, by kind of query:",
        "",
        "| engine | cases | " + " | ".join(kinds) + " |",
        "| --- | ---: |" + " ---: |" * len(kinds),
    ]
    for result in results:
        shares = " | ".join(result["top1_by_kind"][kind] for kind in kinds)
        lines.append(f"| {ENGINES[result['engine']]} | {result['size']:,} | {shares} |")
    return lines


def _detail_lines(result: dict[str, Any]) -> str:
    name = f"**{ENGINES[result['engine']]}, {result['size']:,} cases**"
    if result["engine"] == "netcase":
        build = (
            f"build {result['build_s']:.2f} s = jieba load {result['jieba_s']:.2f} s "
            f"+ SQL sync {result['sync_s']:.2f} s + Whoosh index {result['index_s']:.2f} s; "
            f"open with nothing changed {result['reopen_s']:.3f} s; "
            f"jieba's dictionary {result['jieba_mb']:.0f} MB of the peak"
        )
    else:
        build = (
            f"build {result['build_s']:.2f} s = read and parse {result['parse_s']:.2f} s "
            f"+ insert {result['insert_s']:.2f} s"
        )
    slowest = ", ".join(f"`{text}` {ms:.1f} ms" for text, ms in result["slowest"])
    missed = ", ".join(f"`{text}` (got {got})" for text, got in result["missed"])
    return (
        f"- {name}: {build}; first query {result['first_query_ms']:.1f} ms; "
        f"max {result['max_ms']:.1f} ms; slowest (median) {slowest}; "
        f"expected case not first for: {missed or 'none'}.\n"
    )


def _notes() -> list[str]:
    return [
        "Notes:",
        "",
        "- Build: from case files on disk to a usable index in a fresh data folder. "
        "netcase's includes jieba's dictionary load (no cache yet), YAML parsing and "
        "checking, the SQL catalog and the Whoosh index; FTS5's includes reading and "
        "parsing the files with the same parser.",
        "- Re-sync: a new `KnowledgeBase(...).open()` after one case file's body "
        "changed, jieba already loaded: what the app does on start.",
        "- Query: `KnowledgeBase.search(text, limit=20)` with snippets; FTS5 gets "
        "the OR of the query's pieces of 3+ characters with `bm25` and `snippet()`. "
        "Pieces under 3 characters (速度, 超时, OA, IP) cannot match a trigram index "
        "and are left out.",
        "- Peak MB: the child process's `ru_maxrss` minus its RSS after imports, "
        "before the build (includes jieba's dictionary for netcase).",
        "- Top-1: queries of the mix with an expected case (the `common` ones have "
        "none and are only timed).",
    ]


if __name__ == "__main__":
    sys.exit(main())
