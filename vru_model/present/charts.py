"""Static charts for the reports: PNG images with alt text, drawn for readers who cannot tell colours apart.

The palette is Okabe-Ito (safe for the common colour-vision deficiencies), and every chart also
carries its meaning in hatching, direct labels or position, so colour is never the only cue.
Charts are drawn on a bare matplotlib Figure (no pyplot, no GUI backend) so they work in kernels,
worker processes and tests alike.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence
from dataclasses import dataclass

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.patheffects import withStroke
from matplotlib.ticker import MaxNLocator, PercentFormatter

from vru_model.core.text import money

OKABE_ITO = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"]
HATCHES = ["", "//", "..", "xx", "\\\\", "++", "oo", "--"]
TEXT = "#1a1a1a"
DPI = 110


@dataclass(frozen=True)
class Chart:
    """A rendered chart: PNG bytes, alt text that says what it shows, and a visible caption."""

    png: bytes
    alt: str
    caption: str

    def _repr_mimebundle_(self, include=None, exclude=None):  # type: ignore[no-untyped-def]
        return {"image/png": base64.b64encode(self.png).decode("ascii")}, {"image/png": {"alt": self.alt}}


def _figure(width: float, height: float) -> Figure:
    fig = Figure(figsize=(width, height), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _style(ax) -> None:  # type: ignore[no-untyped-def]
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.tick_params(colors=TEXT, labelsize=9)
    ax.yaxis.label.set_color(TEXT)
    ax.xaxis.label.set_color(TEXT)


def _png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, metadata={"Software": None})
    return buf.getvalue()


def millions(x: float, _pos: object = None) -> str:
    """Axis and bar labels in the reports' one money style (results_text.money): £1.2m, £45k, £2,000, <£1."""
    return money(x)


def stacked_bars(
    categories: Sequence[str],
    series: dict[str, Sequence[float]],
    *,
    ylabel: str,
    marker: dict[str, float] | None = None,
    marker_label: str = "",
    alt: str,
    caption: str,
) -> Chart:
    """Vertical stacked bars with hatching per series, a total above each bar and an optional level per bar."""
    fig = _figure(8.0, 4.4)
    ax = fig.add_subplot()
    bottoms = [0.0] * len(categories)
    handles = []
    for k, (name, values) in enumerate(series.items()):
        colour, hatch = OKABE_ITO[k % len(OKABE_ITO)], HATCHES[k % len(HATCHES)]
        ax.bar(categories, values, bottom=bottoms, color=colour, hatch=hatch, edgecolor="white", linewidth=0.6)
        handles.append(Patch(facecolor=colour, hatch=hatch, edgecolor="white", label=name))
        bottoms = [b + v for b, v in zip(bottoms, values, strict=True)]
    for x, total in enumerate(bottoms):
        ax.annotate(millions(total), (x, total), ha="center", va="bottom", fontsize=9, color=TEXT,
                    xytext=(0, 2), textcoords="offset points")
    if marker:
        halo = [withStroke(linewidth=4, foreground="white")]
        for x, c in enumerate(categories):
            if c in marker:
                ax.hlines(marker[c], x - 0.45, x + 0.45, colors=TEXT, linestyles="--", linewidth=2, zorder=3,
                          path_effects=halo)
        handles.append(ax.plot([], [], color=TEXT, linestyle="--", linewidth=2, label=marker_label)[0])
    ax.yaxis.set_major_formatter(millions)
    ax.set_ylabel(ylabel)
    below = -0.14 if any("\n" in c for c in categories) else -0.08  # clear of two-line bar labels
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, below), ncols=2, frameon=False, fontsize=8)
    _style(ax)
    return Chart(_png(fig), alt, caption)


def share_bars(categories: Sequence[str], shares: Sequence[float], minimum: float, *, alt: str, caption: str) -> Chart:
    """Bars of a share per year with the required minimum as a labelled dashed line."""
    fig = _figure(7.5, 3.2)
    ax = fig.add_subplot()
    ax.bar(categories, [s * 100 for s in shares], color=OKABE_ITO[0], width=0.55)
    for x, s in enumerate(shares):
        ax.annotate(f"{s:.0%}", (x, s * 100), ha="center", va="bottom", fontsize=9, color=TEXT,
                    xytext=(0, 2), textcoords="offset points")
    ax.axhline(minimum * 100, color=OKABE_ITO[5], linestyle="--", linewidth=1.8)
    ax.text(0.01, minimum * 100 + 1, f"minimum {minimum:.0%}", transform=ax.get_yaxis_transform(), ha="left",
            va="bottom", fontsize=9, color=TEXT, path_effects=[withStroke(linewidth=3, foreground="white")])
    ax.set_ylim(0, max(100, max(shares, default=0) * 110))
    ax.yaxis.set_major_formatter(PercentFormatter())
    ax.set_ylabel("share of core grant")
    _style(ax)
    return Chart(_png(fig), alt, caption)


def timeline(
    rows: Sequence[tuple[str, Sequence[int], int | None, int | None]],
    months: Sequence[str],
    *,
    alt: str,
    caption: str,
) -> Chart:
    """Gantt-style plan: one row per service; running months solid, notice period hatched, closure marked.

    Each row is (label, running flags per month, index of the month notice is served or None,
    index of the first closed month or None).
    """
    n = len(rows)
    fig = _figure(9.0, 1.0 + 0.32 * max(n, 1))
    ax = fig.add_subplot()
    for y, (_label, running, notice, closes) in enumerate(rows):
        starts = [k for k, on in enumerate(running) if on and (k == 0 or not running[k - 1])]
        for s in starts:
            e = s
            while e < len(running) and running[e]:
                e += 1
            ax.broken_barh([(s, e - s)], (y - 0.35, 0.7), facecolors=OKABE_ITO[0])
        if notice is not None and closes is not None and closes > notice:
            ax.broken_barh([(notice, closes - notice)], (y - 0.35, 0.7), facecolors=OKABE_ITO[1],
                           hatch="///", edgecolor=TEXT, linewidth=0)
        if closes is not None:
            ax.plot([closes], [y], marker="X", color=TEXT, markersize=7, linestyle="none")
    ax.set_yticks(range(n), [r[0] for r in rows], fontsize=8)
    ax.invert_yaxis()
    ticks = [k for k, m in enumerate(months) if m.endswith("-04")]
    ax.set_xticks(ticks, [f"Apr {months[k][:4]}" for k in ticks])
    ax.set_xlim(0, len(months))
    ax.grid(axis="x", color="#cccccc", linewidth=0.6)
    ax.set_axisbelow(True)
    handles = [
        Patch(facecolor=OKABE_ITO[0], label="running"),
        Patch(facecolor=OKABE_ITO[1], hatch="///", edgecolor=TEXT, label="notice period (still running)"),
        ax.plot([], [], marker="X", color=TEXT, linestyle="none", label="closes")[0],
    ]
    ax.legend(handles=handles, loc="lower center", bbox_to_anchor=(0.5, 1.0), ncols=3, frameon=False, fontsize=8)
    _style(ax)
    return Chart(_png(fig), alt, caption)


def horizontal_bars(
    panels: Sequence[tuple[str, Sequence[str], Sequence[float]]],
    *,
    alt: str,
    caption: str,
    fmt=millions,  # type: ignore[no-untyped-def]
    shared: bool = False,
) -> Chart:
    """Side-by-side panels of labelled horizontal bars, largest first; `shared` panels have the same rows in the
    first panel's order, labelled once."""
    longest = max((len(p[1]) for p in panels), default=1)
    fig = _figure(9.0, 1.2 + 0.34 * longest)
    axes = fig.subplots(1, len(panels), squeeze=False, sharey=shared)[0]
    first = panels[0][2]
    for k, (ax, (title, labels, values)) in enumerate(zip(axes, panels, strict=True)):
        order = sorted(range(len(values)), key=lambda j: -(first if shared else values)[j])
        ax.barh([labels[j] for j in order], [values[j] for j in order], color=OKABE_ITO[k * 2 % len(OKABE_ITO)],
                hatch=HATCHES[k % len(HATCHES)], edgecolor="white")
        top = max(values, default=0) or 1
        for y, j in enumerate(order):
            ax.annotate(fmt(values[j]), (values[j], y), va="center", ha="left", fontsize=8, color=TEXT,
                        xytext=(3, 0), textcoords="offset points")
        ax.set_xlim(0, top * 1.3)
        ax.xaxis.set_major_locator(MaxNLocator(4))
        if not (shared and k):
            ax.invert_yaxis()
        else:
            ax.tick_params(axis="y", left=False, labelleft=False)
        ax.set_title(title, fontsize=10, color=TEXT, loc="left")
        ax.xaxis.set_major_formatter(fmt)
        ax.tick_params(axis="y", labelsize=8)
        _style(ax)
    return Chart(_png(fig), alt, caption)


def frontier_lines(
    levels: Sequence[float],
    values: Sequence[float | None],
    running: Sequence[float | None],
    *,
    annual_grant: float,
    value_label: str,
    running_label: str,
    no_plan_below: float | None,
    alt: str,
    caption: str,
) -> Chart:
    """Two panels against the grant level (a share of the scenario's own grant): value above, services running
    below; the 100% level is a labelled dashed line and levels with no lawful plan are a hatched, labelled band.
    Each series has its own marker and panel, so colour is never the only cue. None means no plan at that level."""
    fig = _figure(9.0, 5.6)
    top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=[3, 2])
    xs = [x * 100 for x in levels]
    series = [(top, values, OKABE_ITO[0], "o", "-", value_label, millions),
              (bottom, running, OKABE_ITO[5], "s", "--", running_label, None)]
    halo = [withStroke(linewidth=3, foreground="white")]
    for ax, ys, colour, marker, style, label, fmt in series:
        ax.plot(xs, [float("nan") if y is None else y for y in ys], color=colour, marker=marker, markersize=4,
                linestyle=style, linewidth=1.8)
        ax.set_title(label, fontsize=10, color=TEXT, loc="left")
        if fmt:
            ax.yaxis.set_major_formatter(fmt)
        else:
            ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylim(bottom=0)
        ax.axvline(100, color=TEXT, linestyle=":", linewidth=1.5)
        if no_plan_below is not None and no_plan_below > levels[0]:
            ax.axvspan(xs[0], no_plan_below * 100, facecolor="#eeeeee", hatch="//", edgecolor="#999999",
                       linewidth=0)
        ax.grid(axis="y", color="#dddddd", linewidth=0.6)
        ax.set_axisbelow(True)
        _style(ax)
    top.text(101, 0.04, "the baseline's grant (100%)", transform=top.get_xaxis_transform(), ha="left",
             va="bottom", fontsize=9, color=TEXT, path_effects=halo)
    if no_plan_below is not None and no_plan_below > levels[0]:
        middle = (xs[0] + no_plan_below * 100) / 2
        for ax in (top, bottom):
            ax.text(middle, 0.5, "no lawful\nplan", transform=ax.get_xaxis_transform(), ha="center", va="center",
                    fontsize=9, color=TEXT, path_effects=halo)
    bottom.xaxis.set_major_formatter(lambda x, _pos: f"{x:.0f}%\n{millions(x / 100 * annual_grant)}")
    bottom.set_xlabel("core grant: share of the baseline's, and £ a year (every year scaled alike)")
    bottom.set_xlim(xs[0], xs[-1])
    return Chart(_png(fig), alt, caption)


def fate_shares(labels: Sequence[str], shares: dict[str, Sequence[float]], *, alt: str, caption: str) -> Chart:
    """One bar per service, split into the shares of samples in which it is kept, reduced, closes (or never
    runs); each part has its own colour and hatching and a legend, and shares of 10% or more are written on it."""
    fig = _figure(9.0, 1.3 + 0.3 * len(labels))
    ax = fig.subplots()
    left = [0.0] * len(labels)
    handles = []
    for k, (name, values) in enumerate(shares.items()):
        colour, hatch = OKABE_ITO[[2, 1, 5, 4][k % 4]], HATCHES[k % len(HATCHES)]
        ax.barh(range(len(labels)), values, left=left, color=colour, hatch=hatch, edgecolor="white", height=0.7)
        for y, (x0, v) in enumerate(zip(left, values, strict=True)):
            if v >= 0.1:
                ax.text(x0 + v / 2, y, f"{v:.0%}", ha="center", va="center", fontsize=7, color=TEXT,
                        path_effects=[withStroke(linewidth=2.5, foreground="white")])
        left = [a + b for a, b in zip(left, values, strict=True)]
        handles.append(Patch(facecolor=colour, hatch=hatch, edgecolor="white", label=name))
    ax.set_yticks(range(len(labels)), labels, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.xaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_xlabel("share of samples of the evidence")
    ax.legend(handles=handles, loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=len(handles), frameon=False,
              fontsize=9)
    _style(ax)
    return Chart(_png(fig), alt, caption)


def regret_histogram(regret: Sequence[float], *, marks: dict[str, float], alt: str, caption: str) -> Chart:
    """How much value the recommended plan loses across samples, with labelled lines (not colour alone) at the
    marks (e.g. the mean and the 90th percentile)."""
    fig = _figure(9.0, 3.2)
    ax = fig.subplots()
    ax.hist(regret, bins=min(20, max(5, len(regret) // 3)), color=OKABE_ITO[0], edgecolor="white")
    halo = [withStroke(linewidth=3, foreground="white")]
    for k, (label, x) in enumerate(marks.items()):
        ax.axvline(x, color=TEXT, linestyle=[":", "--", "-."][k % 3], linewidth=1.5)
        ax.text(x, 0.95 - 0.12 * k, f" {label}: {millions(x)}", transform=ax.get_xaxis_transform(), ha="left",
                va="top", fontsize=9, color=TEXT, path_effects=halo)
    ax.xaxis.set_major_formatter(millions)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("value lost by keeping to the recommended plan (discounted objective)")
    ax.set_ylabel("samples")
    _style(ax)
    return Chart(_png(fig), alt, caption)


def spend_by_month(
    months: Sequence[str],
    series: dict[str, Sequence[float | None]],
    *,
    as_of_index: int,
    alt: str,
    caption: str,
) -> Chart:
    """Monthly spend lines (planned, actual, re-planned), each with its own marker and dash so colour is never the
    only cue, and the last month of actuals marked by a labelled line. None leaves a gap in a line."""
    fig = _figure(9.0, 4.0)
    ax = fig.add_subplot()
    styles = [("o", "--"), ("s", "-"), ("^", ":")]
    xs = list(range(len(months)))
    for k, (label, ys) in enumerate(series.items()):
        marker, dash = styles[k % len(styles)]
        ax.plot(xs, [float("nan") if y is None else y for y in ys], color=OKABE_ITO[k], marker=marker, markersize=3,
                linestyle=dash, linewidth=1.6, label=label)
    ax.axvline(as_of_index + 0.5, color=TEXT, linestyle=":", linewidth=1.2)
    ax.text(as_of_index + 0.6, 0.96, "actuals | re-plan", transform=ax.get_xaxis_transform(), fontsize=8, color=TEXT,
            va="top", path_effects=[withStroke(linewidth=3, foreground="white")])
    step = max(1, len(months) // 12)
    ax.set_xticks(xs[::step], [months[k] for k in xs[::step]], rotation=45, ha="right")
    ax.yaxis.set_major_formatter(millions)
    ax.set_ylim(bottom=0)
    ax.set_ylabel("VRU spend a month")
    ax.legend(frameon=False, fontsize=9, loc="lower left")
    ax.grid(axis="y", color="#dddddd", linewidth=0.6)
    ax.set_axisbelow(True)
    _style(ax)
    return Chart(_png(fig), alt, caption)


def range_bars(labels: Sequence[str], bands: dict[str, tuple[Sequence[float], Sequence[float]]],
               best: Sequence[float], *, xlabel: str, alt: str, caption: str) -> Chart:
    """One row per item of nested range bars from low to high, the widest band (listed first) palest and tallest,
    each band with its own hatching, and the best value a labelled black diamond."""
    fig = _figure(9.0, 1.4 + 0.32 * len(labels))
    ax = fig.subplots()
    colours = [OKABE_ITO[4], OKABE_ITO[0], "#003B5C"] if len(bands) <= 3 else OKABE_ITO
    handles: list[Patch | Line2D] = []
    ys = range(len(labels))
    for k, (name, (low, high)) in enumerate(bands.items()):
        colour, hatch = colours[k % len(colours)], HATCHES[k % len(HATCHES)]
        ax.barh(ys, [h - lo for lo, h in zip(low, high, strict=True)], left=low, height=0.75 - 0.2 * min(k, 3),
                color=colour, edgecolor="white", hatch=hatch)
        handles.append(Patch(facecolor=colour, hatch=hatch, edgecolor="white", label=name))
    ax.plot(list(best), ys, linestyle="none", marker="D", markersize=6, color=TEXT, markeredgecolor="white")
    handles.append(Line2D([], [], linestyle="none", marker="D", color=TEXT, label="best plan"))
    ax.set_yticks(ys, labels, fontsize=8)
    ax.invert_yaxis()
    top = max([1.0, *best, *(h for _, high in bands.values() for h in high)])
    ax.set_xlim(0, top * 1.04)
    ax.set_xlabel(xlabel)
    ax.legend(handles=handles, loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=len(handles), frameon=False,
              fontsize=9)
    _style(ax)
    return Chart(_png(fig), alt, caption)
