"""Publisher styles: the knobs a newspaper's layout grid is drawn from.

All lengths are pixels at 300 dpi on an A4 page (2480 x 3508). Fonts are the TrueType fonts installed
on the machine (DejaVu, Liberation); a style names them by file so a render is reproducible.
"""
from __future__ import annotations

import os
from dataclasses import asdict, dataclass

from formats import articles as formats_articles

PAGE_W, PAGE_H, DPI = 2480, 3508, 300

_DEFAULT_FONT_DIRS = ("/usr/share/fonts/truetype/dejavu", "/usr/share/fonts/truetype/liberation",
                      "/usr/share/fonts/TTF", "/usr/share/fonts/dejavu", "/usr/share/fonts/truetype")


# LOUPE_FONT_DIRS (colon-separated) pins the search path: the same fonts give the same pages on any machine
_FONT_DIRS = tuple(d for d in os.environ.get("LOUPE_FONT_DIRS", "").split(":") if d) or _DEFAULT_FONT_DIRS


def font_path(name: str) -> str:
    """Absolute path of an installed font file (e.g. ``DejaVuSerif.ttf``); DejaVuSans as the fallback."""
    for d in _FONT_DIRS:
        p = os.path.join(d, name)
        if os.path.exists(p):
            return p
    for d in _FONT_DIRS:
        p = os.path.join(d, "DejaVuSans.ttf")
        if os.path.exists(p):
            return p
    raise FileNotFoundError(f"font {name!r} not found and no DejaVuSans fallback under {_FONT_DIRS}")


@dataclass(frozen=True)
class PublisherStyle:
    name: str
    columns: int
    gutter: int                 # horizontal white space between columns
    vgap: int                   # vertical white space between stacked articles
    margins: tuple[int, int, int, int]   # left, top, right, bottom
    body_font: str
    body_size: int
    headline_font: str
    headline_sizes: tuple[int, int]
    caption_font: str
    headline_style: str = "plain"       # plain | underline | inverse | kicker
    vertical_rules: str = "none"        # none | between | all
    horizontal_rules: bool = False
    boxed: bool = False
    rule_width: int = 3
    photo_prob: float = 0.45
    l_shape_prob: float = 0.35
    masthead_size: int = 70

    def to_json(self) -> dict:
        return asdict(self)


STYLES: dict[str, PublisherStyle] = {s.name: s for s in [
    PublisherStyle("daily-courier", columns=6, gutter=44, vgap=56, margins=(130, 120, 130, 150),
                   body_font="DejaVuSerif.ttf", body_size=29, headline_font="DejaVuSerif-Bold.ttf",
                   headline_sizes=(60, 110), caption_font="DejaVuSerif-Italic.ttf",
                   vertical_rules="between", horizontal_rules=True),
    PublisherStyle("morning-herald", columns=5, gutter=60, vgap=80, margins=(150, 140, 150, 160),
                   body_font="LiberationSerif-Regular.ttf", body_size=33, headline_font="LiberationSans-Bold.ttf",
                   headline_sizes=(64, 120), caption_font="LiberationSerif-Italic.ttf",
                   headline_style="kicker", photo_prob=0.55),
    PublisherStyle("evening-post", columns=7, gutter=36, vgap=50, margins=(110, 110, 110, 140),
                   body_font="DejaVuSansCondensed.ttf", body_size=26, headline_font="DejaVuSansCondensed-Bold.ttf",
                   headline_sizes=(54, 100), caption_font="DejaVuSansCondensed-Oblique.ttf",
                   vertical_rules="all", horizontal_rules=True, rule_width=2),
    PublisherStyle("city-tribune", columns=4, gutter=70, vgap=70, margins=(160, 130, 160, 160),
                   body_font="LiberationSans-Regular.ttf", body_size=34, headline_font="DejaVuSerif-BoldItalic.ttf",
                   headline_sizes=(70, 130), caption_font="LiberationSans-Italic.ttf",
                   headline_style="underline", horizontal_rules=True, rule_width=4),
    PublisherStyle("weekly-gazette", columns=6, gutter=50, vgap=64, margins=(140, 130, 140, 150),
                   body_font="DejaVuSerifCondensed.ttf", body_size=30, headline_font="LiberationSerif-Bold.ttf",
                   headline_sizes=(66, 124), caption_font="DejaVuSerifCondensed-Italic.ttf",
                   boxed=True, photo_prob=0.35),
    # held out of the default training set: the "new publisher" of the fine-tuning experiment
    PublisherStyle("nordic-tabloid", columns=5, gutter=30, vgap=40, margins=(100, 100, 100, 120),
                   body_font="LiberationSansNarrow-Regular.ttf", body_size=31,
                   headline_font="LiberationSansNarrow-Bold.ttf", headline_sizes=(80, 150),
                   caption_font="LiberationSansNarrow-Italic.ttf", headline_style="inverse",
                   photo_prob=0.7, l_shape_prob=0.5),
    # held out of every shipped model's training (HELD_OUT_PUBLISHERS): a layout no model has seen, for
    # measuring what operators' corrections teach. Three wide columns of monospaced text with narrow gutters
    # and no rules, tall underlined headlines: the grid, the type and the spacing all differ from the above.
    PublisherStyle("harbour-ledger", columns=3, gutter=26, vgap=34, margins=(120, 110, 120, 130),
                   body_font="DejaVuSansMono.ttf", body_size=30, headline_font="LiberationSerif-Bold.ttf",
                   headline_sizes=(76, 150), caption_font="DejaVuSansMono-Oblique.ttf",
                   headline_style="underline", rule_width=5, photo_prob=0.6, l_shape_prob=0.5),
]}

TRAIN_PUBLISHERS = ["daily-courier", "morning-herald", "evening-post", "city-tribune", "weekly-gazette"]
NEW_PUBLISHERS = ["nordic-tabloid"]
# Never in a shipped model's training (``publishers()`` leaves them out): the layouts a model can only learn
# from operators' corrections (bench/operator_sim.py's articles shift).
HELD_OUT_PUBLISHERS = ["harbour-ledger"]
PAGE_TYPES = list(formats_articles.PAGE_TYPES)   # the one taxonomy, shared with the web app
NON_ARTICLE_TYPES = ["ads", "tv", "shares", "sports"]


def publishers(n: int | None = None) -> list[str]:
    """The first ``n`` publisher names a shipped model trains on: the training ones first, then the new ones
    (never the ``HELD_OUT_PUBLISHERS``)."""
    names = TRAIN_PUBLISHERS + NEW_PUBLISHERS
    return names if n is None else names[:n]
