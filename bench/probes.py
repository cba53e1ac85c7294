"""All probe benchmarks of issue 3 in one run: DNS, latency, throughput.

Each section lives in its own module beside this one and can run alone.
Needs root for ICMP and the namespace lab (tc, nftables); traffic goes to
loopback and to namespaces the benchmark creates only.

    python bench/probes.py
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import probes_dns  # noqa: E402
import probes_latency  # noqa: E402
import probes_throughput  # noqa: E402


def main() -> None:
    """Run every probe benchmark, one Markdown section each."""
    for section in (probes_dns, probes_latency, probes_throughput):
        print(f"\n### {section.__name__.replace('probes_', '').upper()}\n", flush=True)
        section.main()


if __name__ == "__main__":
    main()
