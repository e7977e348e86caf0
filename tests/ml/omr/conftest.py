import functools
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


@functools.lru_cache(maxsize=None)
def _pair(seed: int, kind: str):
    from ml.omr.synth import make_pair

    return make_pair(seed, kind)


@pytest.fixture(scope="session")
def pair():
    return _pair


@pytest.fixture(scope="session")
def bach_page():
    from ml.omr.render import render_page

    return render_page("bach/bwv66.6")
