"""Server-side plots of the compare page as inline SVG (matplotlib's SVG writer): readable
without JavaScript, cached with the comparison they illustrate."""
from __future__ import annotations

import io
import re

CANDIDATE, CHAMPION = "#1f6fb2", "#b26a1f"


def _figure(width: float = 5.0, height: float = 3.2):
    import matplotlib
    from matplotlib.figure import Figure

    # Text as SVG text (not glyph outlines): half the drawing time, a tenth of the size, and selectable.
    matplotlib.rcParams["svg.fonttype"] = "none"
    # A bare Figure (no pyplot): no global state shared between requests. Fixed margins instead of a
    # "tight" bounding box, which would draw every figure twice.
    return Figure(figsize=(width, height), dpi=72, layout=None)


def _svg(fig, title: str) -> str:
    out = io.StringIO()
    fig.savefig(out, format="svg")
    text = out.getvalue()
    text = text[text.index("<svg"):]   # inline: no XML prolog or DOCTYPE
    # Readable by screen readers, and ids unique per plot on a page holding several.
    prefix = re.sub(r"\W+", "-", title.lower()).strip("-")
    text = re.sub(r'id="([^"]+)"', lambda m: f'id="{prefix}-{m[1]}"', text)
    text = re.sub(r'(xlink:href|href)="#([^"]+)"', lambda m: f'{m[1]}="#{prefix}-{m[2]}"', text)
    text = re.sub(r"url\(#([^)]+)\)", lambda m: f"url(#{prefix}-{m[1]})", text)
    return text.replace("<svg ", f'<svg role="img" aria-label="{title}" ', 1)


def slice_bars(rows: list[dict], metric: str) -> str | None:
    """The primary metric per slice, both models side by side, with the difference's interval."""
    rows = [r for r in rows if r["candidate"] is not None or r["champion"] is not None]
    if not rows:
        return None
    fig = _figure(6.0, 0.45 * len(rows) + 1.2)
    ax = fig.subplots()
    fig.subplots_adjust(left=0.3, right=0.97, bottom=0.8 / (0.45 * len(rows) + 1.2), top=0.95)
    ys = range(len(rows))
    ax.barh([y + 0.2 for y in ys], [r["champion"] or 0 for r in rows], height=0.4, color=CHAMPION, label="champion")
    ax.barh([y - 0.2 for y in ys], [r["candidate"] or 0 for r in rows], height=0.4, color=CANDIDATE, label="candidate")
    ax.set_yticks(list(ys), [r["slice"] for r in rows])
    ax.invert_yaxis()
    ax.set_xlabel(metric)
    ax.legend(loc="lower right", fontsize=8)
    return _svg(fig, f"{metric} per slice")


def pr_curves(curves: dict[str, tuple[list, list, list] | None], operating: dict[str, float] | None = None) -> str | None:
    """Precision-recall curves of both models (from per-item scores)."""
    if not any(curves.values()):
        return None
    fig = _figure()
    ax = fig.subplots()
    fig.subplots_adjust(left=0.15, right=0.97, bottom=0.15, top=0.95)
    for name, curve in curves.items():
        if curve:
            precision, recall, _ = curve
            ax.plot(recall, precision, label=name, color=CANDIDATE if name == "candidate" else CHAMPION)
    ax.set_xlabel("recall")
    ax.set_ylabel("precision")
    ax.set_xlim(0, 1.02)
    ax.set_ylim(0, 1.02)
    ax.legend(loc="lower left", fontsize=8)
    return _svg(fig, "precision-recall curves")


def confusion_matrix(matrix: list[list[int]] | None, labels: tuple[str, str] = ("negative", "positive")) -> str | None:
    if not matrix:
        return None
    fig = _figure(3.6, 3.0)
    ax = fig.subplots()
    fig.subplots_adjust(left=0.32, right=0.97, bottom=0.2, top=0.97)
    ax.imshow(matrix, cmap="Blues")
    top = max(max(row) for row in matrix) or 1
    for i in range(2):
        for j in range(2):   # light text on the dark cells, dark on the light ones
            ax.text(j, i, str(matrix[i][j]), ha="center", va="center", fontsize=12,
                    color="white" if matrix[i][j] > top / 2 else "black")
    ax.set_xticks([0, 1], [f"predicted\n{labels[0]}", f"predicted\n{labels[1]}"])
    ax.set_yticks([0, 1], [f"actual {labels[0]}", f"actual {labels[1]}"])
    return _svg(fig, "candidate confusion matrix")


def loss_curve(points: list | None) -> str | None:
    points = [p for p in points or [] if isinstance(p, (list, tuple)) and len(p) == 2 and p[1] is not None]
    if len(points) < 2:
        return None
    fig = _figure(5.0, 2.6)
    ax = fig.subplots()
    fig.subplots_adjust(left=0.15, right=0.97, bottom=0.2, top=0.95)
    ax.plot([p[0] for p in points], [p[1] for p in points], color=CANDIDATE)
    ax.set_xlabel("step")
    ax.set_ylabel("training loss")
    return _svg(fig, "training loss")


def edits_timeline(series: list[dict], promotions: list, title: str, since=None, until=None) -> str | None:
    """Edits per human revision per day, with each promotion / roll-back as a labelled vertical line."""
    if not series:
        return None
    from datetime import datetime, time

    from django.utils import timezone

    fig = _figure(6.0, 2.6)
    ax = fig.subplots()
    fig.subplots_adjust(left=0.12, right=0.97, bottom=0.22, top=0.88)
    end = timezone.localtime(until).replace(tzinfo=None) if until is not None else None
    # A day's point at its noon, or at "now" for today (before noon it would lie in the future).
    days = [min(datetime.combine(row["day"], time(12)), end or datetime.max) for row in series]
    ax.plot(days, [row["edits_per_revision"] for row in series], marker="o", color=CANDIDATE)
    for audit in promotions:
        when = timezone.localtime(audit.created_at).replace(tzinfo=None)
        ax.axvline(when, color=CHAMPION, linestyle="--")
        ax.annotate(f"{audit.action} v{audit.to_version.number}", (when, 1.0), xycoords=("data", "axes fraction"),
                    fontsize=7, rotation=0, va="bottom", ha="right", color=CHAMPION)
    ax.set_ylabel("edits / revision")
    ax.set_ylim(bottom=0)
    if since is not None and until is not None:   # the whole window, not just the days with revisions
        start = timezone.localtime(since).replace(tzinfo=None)
        ax.set_xlim(start, end + (end - start) * 0.03)
    from matplotlib.dates import AutoDateLocator, ConciseDateFormatter

    locator = AutoDateLocator(maxticks=8)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(ConciseDateFormatter(locator))
    return _svg(fig, title)
