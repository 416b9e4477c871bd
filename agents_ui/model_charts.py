"""The models page's two charts as SVG geometry, drawn on the server so they show without
JavaScript (the tables under them hold the same figures): the churn model's calibration
(predicted against observed churn per bin, with the diagonal of a perfect model) and the CLV's
hold-out (predicted against actual purchases per frequency bin)."""

from __future__ import annotations

from typing import Any

WIDTH, HEIGHT, PAD = 360.0, 240.0, 32.0


def _x(fraction: float) -> float:
    return round(PAD + fraction * (WIDTH - 2 * PAD), 1)


def _y(fraction: float) -> float:
    return round(HEIGHT - PAD - fraction * (HEIGHT - 2 * PAD), 1)


def calibration(bins: list[dict[str, Any]]) -> dict[str, Any] | None:
    """Points at (predicted, observed) on [0, 1]², and the perfect diagonal."""
    if not bins:
        return None
    points = [
        {"x": _x(b["predicted"]), "y": _y(b["observed"]), "p": b["predicted"], "o": b["observed"]}
        for b in bins
    ]
    return {
        "width": WIDTH,
        "height": HEIGHT,
        "diagonal": (_x(0), _y(0), _x(1), _y(1)),
        "path": " ".join(f"{p['x']},{p['y']}" for p in points),
        "points": points,
        "axis": {"x0": _x(0), "x1": _x(1), "y0": _y(0), "y1": _y(1)},
    }


def holdout(bins: list[dict[str, Any]]) -> dict[str, Any] | None:
    """Pairs of bars per frequency bin, scaled to the largest mean."""
    if not bins:
        return None
    top = max(max(b["predicted"], b["actual"]) for b in bins) or 1.0
    slot = (WIDTH - 2 * PAD) / len(bins)
    bar = slot * 0.38
    bars = []
    for i, b in enumerate(bins):
        left = PAD + i * slot + slot * 0.1
        for j, key in enumerate(("predicted", "actual")):
            h = b[key] / top * (HEIGHT - 2 * PAD)
            bars.append(
                {
                    "x": round(left + j * bar, 1),
                    "y": round(HEIGHT - PAD - h, 1),
                    "w": round(bar, 1),
                    "h": round(h, 1),
                    "kind": key,
                    "value": b[key],
                    "bin": b["bin"],
                }
            )
    labels = [{"x": round(PAD + (i + 0.5) * slot, 1), "text": b["bin"]} for i, b in enumerate(bins)]
    return {"width": WIDTH, "height": HEIGHT, "bars": bars, "labels": labels, "base": _y(0)}
