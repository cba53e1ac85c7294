"""How soon the TUI takes typing after launch, on the shipped cases and on 10,000.

Usage::

    python bench/tui_start.py [--launches 5] [--size 10000] [--out bench/results/tui_start.md]

Each launch starts ``python -m netcase --kb DIR`` in a pseudo-terminal of
100x30 with a warm ``NETCASE_HOME`` (index built and jieba's cache written by
an untimed ``netcase search`` first) and reads the screen output as it comes.
Three moments are timed from just before the process is started:

- ready for typing: the query box's placeholder is on the screen; at once
  ``paypal`` is typed into the terminal;
- typed text shown: ``paypal`` is on the screen, so keys are taken and drawn
  (the knowledge base still opens in a worker meanwhile);
- results shown: the status line reports the cases that match the query, so
  the knowledge base opened and the search ran.

Then ctrl+q quits the app. The report gives the median of the launches.
"""

from __future__ import annotations

import argparse
import fcntl
import os
import re
import select
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import time
from pathlib import Path

from corpus import build_corpus

BENCH_DIR = Path(__file__).resolve().parent
SHIPPED_KB = BENCH_DIR.parent / "kb"
COLUMNS, ROWS = 100, 30
# Text the screen shows, searched for once escape sequences are removed.
READY_MARK = re.compile(rb"the symptom, in Chinese or English")
TYPED = b"paypal"
ECHO_MARK = re.compile(TYPED)
RESULTS_MARK = re.compile(rb"cases match, best first|No case of \d+ matches")
ESCAPES = re.compile(
    rb"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)|[@-Z\\-_])"
)
GOAL_READY_S = 0.6
LAUNCH_TIMEOUT_S = 120.0
QUIT_KEY = b"\x11"


def main(argv: list[str] | None = None) -> int:
    """Time the launches on both case folders and write the report."""
    args = _parser().parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="netcase-tui-start-") as tmp:
        folder = Path(tmp)
        big_kb = folder / "kb"
        build_corpus(args.size).write(big_kb)
        rows = [
            _measure(f"shipped ({_count(SHIPPED_KB)} cases)", SHIPPED_KB, folder, args),
            _measure(f"synthetic ({args.size:,} cases)", big_kb, folder, args),
        ]
    report = _render(rows, args.launches)
    print(report)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(report, encoding="utf-8")
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--launches", type=int, default=5)
    parser.add_argument("--size", type=int, default=10_000, help="synthetic cases")
    parser.add_argument("--out", default=str(BENCH_DIR / "results" / "tui_start.md"))
    return parser


def _count(kb_dir: Path) -> int:
    return sum(1 for _ in kb_dir.glob("*.md"))


def _measure(
    label: str, kb_dir: Path, folder: Path, args: argparse.Namespace
) -> dict[str, object]:
    """Warm a data folder for ``kb_dir``, then time the launches."""
    home = folder / f"home-{len(label)}-{_count(kb_dir)}"
    env = _environment(home)
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "netcase", "search", "warm", "--kb", str(kb_dir)],
        env=env,
        cwd=folder,
        capture_output=True,
        check=True,
    )
    print(f"{label}: warmed in {time.perf_counter() - started:.1f} s", file=sys.stderr)

    launches = [_launch(kb_dir, env, folder) for _ in range(args.launches)]
    print(f"{label}: {launches}", file=sys.stderr)
    row: dict[str, object] = {"label": label}
    for key in ("ready_s", "echo_s", "results_s"):
        row[key] = statistics.median(launch[key] for launch in launches)
    row["ready_max_s"] = max(launch["ready_s"] for launch in launches)
    return row


def _environment(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NETCASE_")}
    env.update(
        NETCASE_HOME=str(home),
        TERM="xterm-256color",
        COLUMNS=str(COLUMNS),
        LINES=str(ROWS),
    )
    return env


def _launch(kb_dir: Path, env: dict[str, str], cwd: Path) -> dict[str, float]:
    """Start the TUI in a pseudo-terminal, type a query; return when each thing showed."""
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLUMNS, 0, 0))
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "netcase", "--kb", str(kb_dir)],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=env,
        cwd=cwd,
        start_new_session=True,
    )
    os.close(slave)
    try:
        ready_s = _watch(master, READY_MARK, started)
        os.write(master, TYPED)
        echo_s = _watch(master, ECHO_MARK, started)
        results_s = _watch(master, RESULTS_MARK, started)
    finally:
        _quit(process, master)
    return {"ready_s": ready_s, "echo_s": echo_s, "results_s": results_s}


def _watch(master: int, mark: re.Pattern[bytes], started: float) -> float:
    """Read the screen output until ``mark`` shows; return seconds since start."""
    seen = b""
    while time.perf_counter() - started < LAUNCH_TIMEOUT_S:
        readable, _, _ = select.select([master], [], [], 0.5)
        if not readable:
            continue
        try:
            seen += os.read(master, 65536)
        except OSError as exc:
            raise RuntimeError(f"The TUI left early: {seen[-400:]!r}") from exc
        if mark.search(ESCAPES.sub(b"", seen)):
            return time.perf_counter() - started
    raise RuntimeError(f"The TUI never showed {mark.pattern!r}: {seen[-400:]!r}")


def _quit(process: subprocess.Popen[bytes], master: int) -> None:
    """Press ctrl+q; stop the process only if it does not leave by itself."""
    try:
        os.write(master, QUIT_KEY)
        _drain_until_exit(process, master, timeout_s=10.0)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        os.close(master)


def _drain_until_exit(
    process: subprocess.Popen[bytes], master: int, timeout_s: float
) -> None:
    # Reading keeps the app from blocking on a full terminal buffer while it exits.
    deadline = time.perf_counter() + timeout_s
    while process.poll() is None and time.perf_counter() < deadline:
        readable, _, _ = select.select([master], [], [], 0.1)
        if readable:
            try:
                os.read(master, 65536)
            except OSError:
                return


def _render(rows: list[dict[str, object]], launches: int) -> str:
    lines = [
        "# TUI start",
        "",
        f"{os.cpu_count()} CPUs (load average {os.getloadavg()[0]:.1f} at the end); "
        f"`python bench/tui_start.py`; median of {launches} launches in a "
        "pseudo-terminal with a warm data folder; seconds from process start.",
        "",
        "| case folder | ready for typing | slowest ready | typed text shown "
        "| results shown |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for row in rows:
        lines.append(
            f"| {row['label']} | {row['ready_s']:.2f} | {row['ready_max_s']:.2f} | "
            f"{row['echo_s']:.2f} | {row['results_s']:.2f} |"
        )
    lines += [
        "",
        f"Goal: ready for typing <= {GOAL_READY_S} s. Ready for typing: the query "
        f"box's placeholder is on the screen. At that moment {TYPED.decode()!r} is "
        "typed; typed text shown: it is on the screen; results shown: the status "
        "line reports the cases that match it (the knowledge base opened in a "
        "worker meanwhile, then the search ran).",
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
