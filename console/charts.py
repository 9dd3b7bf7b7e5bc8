"""The dashboard's charts: server-rendered SVG from matplotlib (no JavaScript, nothing from a CDN).

Figures are built with matplotlib's object API (no pyplot: no global figure state shared between threads) and
rendered by its SVG backend with text kept as text, so the browser draws the Vietnamese labels in its own fonts
and the chart scales to the width of a phone. Blocking and CPU-bound: the page renders them in a worker thread.
"""
from __future__ import annotations

import datetime as dt
import io
import re
import threading
from typing import Dict, List, Optional, Sequence, Tuple

# Okabe-Ito: told apart by colour-blind readers too.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000")
GOOD, BAD, NEUTRAL = "#009E73", "#D55E00", "#8a96a3"
WIDTH, HEIGHT = 5.0, 3.2        # inches: 360 x 230 SVG points, read at about 1:1 on a phone
_setup_lock = threading.Lock()
_ready = False


def _matplotlib() -> None:
    """Configure matplotlib once, on first use (never at import time)."""
    global _ready
    with _setup_lock:
        if _ready:
            return
        import matplotlib

        matplotlib.use("svg", force=False)
        matplotlib.rcParams.update({
            "svg.fonttype": "none", "font.family": "sans-serif", "font.size": 11,
            "axes.spines.top": False, "axes.spines.right": False, "axes.edgecolor": "#b8c0c8",
            "axes.titlesize": 11, "legend.frameon": False, "legend.fontsize": 10,
            "xtick.color": "#36414c", "ytick.color": "#36414c", "axes.grid": True, "axes.grid.axis": "y",
            "grid.color": "#e3e8ee", "axes.axisbelow": True,
        })
        _ready = True


def _figure(height: float = HEIGHT):  # type: ignore[no-untyped-def]
    _matplotlib()
    from matplotlib.figure import Figure

    # A fixed size for every chart (no tight cropping): they all scale alike, text the same size on the page.
    fig = Figure(figsize=(WIDTH, height), constrained_layout=True)
    return fig, fig.add_subplot(1, 1, 1)


def _svg(fig, label: str) -> str:  # type: ignore[no-untyped-def]
    """The figure as an inline <svg> that fills its container's width, labelled for screen readers."""
    from matplotlib.backends.backend_svg import FigureCanvasSVG

    FigureCanvasSVG(fig)
    out = io.StringIO()
    fig.savefig(out, format="svg")
    text = out.getvalue()
    text = text[text.index("<svg"):]
    text = re.sub(r'<svg([^>]*?) width="[^"]*" height="[^"]*"', r'<svg\1', text, count=1)
    safe = label.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")
    return text.replace("<svg", f'<svg class="chart" role="img" aria-label="{safe}" '
                               'preserveAspectRatio="xMidYMid meet"', 1)


def _day_ticks(ax, days: Sequence[dt.date]) -> None:  # type: ignore[no-untyped-def]
    """At most seven readable day labels (dd/mm) whatever the range."""
    step = max(1, -(-len(days) // 7))
    positions = list(range(0, len(days), step))
    ax.set_xticks(positions)
    ax.set_xticklabels([days[i].strftime("%d/%m") for i in positions])
    ax.set_xlim(-0.6, len(days) - 0.4)


def _integer_axis(ax) -> None:  # type: ignore[no-untyped-def]
    from matplotlib.ticker import MaxNLocator

    ax.yaxis.set_major_locator(MaxNLocator(integer=True, nbins=5))
    ax.set_ylim(bottom=0)


def _legend(ax, n: int) -> None:  # type: ignore[no-untyped-def]
    if n:
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=min(n, 2))


def stacked_days(days: Sequence[dt.date], series: Dict[str, List[int]], label: str,
                 colors: Optional[Dict[str, str]] = None, line: Optional[Tuple[str, List[int]]] = None) -> str:
    """Bars per day, one colour per series stacked; optionally a line on top (e.g. the capacity)."""
    fig, ax = _figure()
    bottom = [0] * len(days)
    for i, (name, values) in enumerate(series.items()):
        color = (colors or {}).get(name, PALETTE[i % len(PALETTE)])
        ax.bar(range(len(days)), values, bottom=bottom, color=color, label=name, width=0.75)
        bottom = [b + v for b, v in zip(bottom, values)]
    if line is not None:
        ax.step(range(len(days)), line[1], where="mid", color="#36414c", linewidth=1.5, label=line[0])
    _day_ticks(ax, days)
    _integer_axis(ax)
    _legend(ax, len(series) + (line is not None))
    return _svg(fig, label)


def lines_days(days: Sequence[dt.date], series: Dict[str, List[Optional[float]]], label: str,
               colors: Optional[Dict[str, str]] = None, integer: bool = True) -> str:
    """One line per series over the days (a missing value leaves a gap)."""
    fig, ax = _figure()
    for i, (name, values) in enumerate(series.items()):
        color = (colors or {}).get(name, PALETTE[i % len(PALETTE)])
        ys = [float("nan") if v is None else v for v in values]
        ax.plot(range(len(days)), ys, color=color, label=name, linewidth=2, marker="o", markersize=3)
    _day_ticks(ax, days)
    if integer:
        _integer_axis(ax)
    else:
        ax.set_ylim(bottom=0)
    _legend(ax, len(series))
    return _svg(fig, label)


def ranking(labels: Sequence[str], values: Sequence[int], label: str, color: str = PALETTE[0]) -> str:
    """Horizontal bars, largest on top, the number at the end of each bar."""
    height = max(1.2, 0.32 * len(labels) + 0.5)
    fig, ax = _figure(height)
    ys = list(range(len(labels)))[::-1]
    ax.barh(ys, values, color=color, height=0.7)
    ax.set_yticks(ys)
    ax.set_yticklabels([_short(t) for t in labels])
    ax.grid(False)
    ax.set_xticks([])
    ax.spines["bottom"].set_visible(False)
    top = max(values, default=0) or 1
    for y, v in zip(ys, values):
        ax.text(v + top * 0.01, y, str(v), va="center", fontsize=9)
    ax.set_xlim(0, top * 1.15)
    return _svg(fig, label)


def split_ranking(labels: Sequence[str], good: Sequence[int], bad: Sequence[int], label: str,
                  names: Tuple[str, str]) -> str:
    """Horizontal 100 % bars: the share of ``good`` and ``bad`` per row, with the percentage of ``good``."""
    height = max(1.4, 0.32 * len(labels) + 0.8)
    fig, ax = _figure(height)
    ys = list(range(len(labels)))[::-1]
    totals = [g + b for g, b in zip(good, bad)]
    good_pct = [100 * g / t if t else 0 for g, t in zip(good, totals)]
    bad_pct = [100 * b / t if t else 0 for b, t in zip(bad, totals)]
    ax.barh(ys, good_pct, color=GOOD, height=0.7, label=names[0])
    ax.barh(ys, bad_pct, left=good_pct, color=BAD, height=0.7, label=names[1])
    ax.set_yticks(ys)
    ax.set_yticklabels([_short(t) for t in labels])
    for y, pct, t in zip(ys, good_pct, totals):
        ax.text(101, y, f"{pct:.0f}% ({t})", va="center", fontsize=9)
    ax.set_xlim(0, 125)
    ax.set_xticks([0, 50, 100])
    ax.set_xticklabels(["0%", "50%", "100%"])
    ax.grid(False)
    _legend(ax, 2)
    return _svg(fig, label)


def _short(text: str, size: int = 28) -> str:
    """Long procedure names cut so the bars keep some width on a phone."""
    return text if len(text) <= size else text[:size - 1].rstrip() + "…"
