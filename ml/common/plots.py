"""Plot plumbing shared by the kinds: where a command line's plots go, and one figure saved to a file."""
from __future__ import annotations

import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator


def plots_folder(requested: str | Path | None, kind: str) -> Path:
    """``requested`` (``--plots``), else a new temporary folder, named on stderr. Never the checkpoint's own
    folder: for a shipped model (``pretrained/``) that folder is part of the checkout."""
    folder = Path(requested) if requested else Path(tempfile.mkdtemp(prefix=f"loupe-{kind}-plots-"))
    print(f"plots in {folder}", file=sys.stderr, flush=True)
    return folder


@contextmanager
def figure(path: Path, size: tuple[float, float], dpi: int = 90, tight_layout: bool = True,
           **save: Any) -> Iterator[Any]:
    """The axes of a new figure, saved to ``path`` (its folder made) and closed when the block ends. The
    Agg backend draws without a display; matplotlib is imported only here, when a plot is drawn."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path.parent.mkdir(parents=True, exist_ok=True)
    fig, ax = plt.subplots(figsize=size)
    try:
        yield ax
        if tight_layout:
            fig.tight_layout()
        fig.savefig(path, dpi=dpi, **save)
    finally:
        plt.close(fig)
