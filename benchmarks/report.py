"""What every benchmark shares: its ``--json`` flag and last line, the machine it ran on, and peak memory.

With ``--json`` a benchmark prints, as its last line, one JSON document: the benchmark's name, the machine
(CPUs, load average) and its rows, each row's figures and ratios (keys ending in ``ratio``), for scripts that
track them across runs.
"""

from __future__ import annotations

import argparse
import json
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import psutil


def add_json_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true",
                        help="print one JSON document of the figures as the last line")


def machine() -> dict[str, Any]:
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    return {"cpus": os.cpu_count(), "load_average": load}


def emit(args: argparse.Namespace, benchmark: str, rows: list[dict[str, Any]]) -> None:
    """The JSON last line, when ``--json`` was given."""
    if getattr(args, "json", False):
        print(json.dumps({"benchmark": benchmark, "machine": machine(), "rows": rows}, sort_keys=True))


@dataclass
class PeakRss:
    """The highest resident memory (MiB) this process and its descendants held together while sampled."""

    mib: float = 0.0
    _stop: threading.Event = field(default_factory=threading.Event)

    def _sample(self) -> None:
        me = psutil.Process()
        while True:
            total = 0
            for proc in (me, *me.children(recursive=True)):
                try:
                    total += proc.memory_info().rss
                except psutil.Error:  # a child that exited between the listing and the read
                    continue
            self.mib = max(self.mib, total / 2**20)
            if self._stop.wait(0.05):
                return


@contextmanager
def peak_rss() -> Iterator[PeakRss]:
    """Sample the process tree every 50 ms while the block runs (a run's engine and program are children)."""
    peak = PeakRss()
    sampler = threading.Thread(target=peak._sample, daemon=True)
    sampler.start()
    try:
        yield peak
    finally:
        peak._stop.set()
        sampler.join()
