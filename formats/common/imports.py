"""What the kinds' importers share: reading an uploaded annotation file safely."""
from __future__ import annotations

import json
from typing import Any


def load_json(content: bytes) -> Any:
    """The parsed JSON of an uploaded file; ValueError with the reason when it is not JSON."""
    try:
        return json.loads(content.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise ValueError("not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})") from None
