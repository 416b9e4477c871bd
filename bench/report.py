"""Figures as rows of a table: printed on the terminal and written as Markdown for the record."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, is_dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tqdm import tqdm

from bench import machine


@dataclass(frozen=True)
class Figure:
    """One row of the summary: what was measured, the target, the value, and whether it is met."""

    name: str
    target: str
    measured: str
    met: bool | None  # None: a figure reported for reading, with no target of its own
    group: int = 0  # the numbered figure of the benchmark it belongs to, for ordering

    @property
    def verdict(self) -> str:
        return {True: "yes", False: "NO", None: "-"}[self.met]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Run:
    """Everything one run of a benchmark measured, written to `bench/results/` at the end."""

    options: Any
    machine: dict[str, Any]
    figures: list[Figure] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)
    plans: list[str] = field(default_factory=list)
    started: datetime = field(default_factory=lambda: datetime.now(UTC))

    def add(self, figure: Figure) -> None:
        self.figures.append(figure)
        tqdm.write(
            f"  -> {figure.name}: {figure.measured} (target {figure.target}, met: {figure.verdict})"
        )


def text_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(str(c)) for c in col) for col in zip(headers, *rows, strict=True)]
    line = "  ".join(f"{{:<{w}}}" for w in widths)
    out = [line.format(*headers), line.format(*("-" * w for w in widths))]
    out += [line.format(*(str(c) for c in row)) for row in rows]
    return "\n".join(out)


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    out = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    out += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(out)


def figure_rows(figures: Sequence[Figure]) -> list[list[str]]:
    return [[f.name, f.target, f.measured, f.verdict] for f in figures]


FIGURE_HEADERS = ("figure", "target", "measured", "met?")


def save(run: Run, name: str, directory: Path, extra_markdown: Sequence[str] = ()) -> Path:
    """Write a run to `directory`: JSON with every figure and detail, the query plans as text,
    and a Markdown summary ready for docs/benchmarks.md. Returns the common path prefix."""
    directory.mkdir(exist_ok=True)
    base = directory / f"{name}-{run.started:%Y%m%dT%H%M%SZ}"
    payload = {
        "options": asdict(run.options) if is_dataclass(run.options) else run.options,
        "machine": run.machine,
        "figures": [f.as_dict() for f in run.figures],
        "details": run.details,
    }
    base.with_suffix(".json").write_text(json.dumps(payload, indent=2, default=str))
    Path(f"{base}-plans.txt").write_text("\n".join(run.plans) + "\n")
    figures = sorted(run.figures, key=lambda f: f.group)
    summary = [
        machine.one_line(run.machine),
        f"load average at the end: {run.machine.get('load_average_at_end', '?')}",
        "",
        markdown_table(FIGURE_HEADERS, figure_rows(figures)),
        *extra_markdown,
    ]
    base.with_suffix(".md").write_text("\n".join(summary) + "\n")
    tqdm.write("\n" + text_table(FIGURE_HEADERS, figure_rows(figures)))
    seconds = run.details.get("seconds", 0.0)
    tqdm.write(f"\nresults in {base}.json, {base}.md, {base}-plans.txt ({seconds / 60:.1f} min)")
    return base
