"""The kind registry: the one place where task kinds plug into the labeling core.

A kind app (catheter, articles, omr, ...) registers a ``KindSpec`` in its ``AppConfig.ready()``: its
annotation validator (geometry against the image bounds, class names from its taxonomy), an empty
annotation, its item page template and its export formats. The core never names a kind; adding a
fourth kind is a new app listed in INSTALLED_APPS.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

# The formats themselves (validation helpers, the item an export sees) live in the pure ``formats``
# package, shared with ``ml``; they are re-exported here for the kind apps and the core.
from formats.common import AnnotationError, AssetDims, Checker, ExportedItem  # noqa: F401
from formats.common.imports import Imported  # noqa: F401


@dataclass(frozen=True)
class ExportFormat:
    name: str
    label: str
    content_type: str
    extension: str
    render: Callable[[Iterable[ExportedItem]], Iterable[str | bytes]]  # yields the file in chunks


@dataclass(frozen=True)
class SuspectThreshold:
    """One tunable of a kind's suspect check: a project may set it within [minimum, maximum]; ``default`` is
    what a project that sets nothing uses."""
    name: str
    label: str
    default: float
    minimum: float
    maximum: float
    integer: bool = False


@dataclass(frozen=True)
class KindSpec:
    name: str
    label: str
    description: str
    taxonomy: tuple[str, ...]
    validate: Callable[..., dict]   # (annotation, assets, *, complete=True): see formats.<kind>.annotation
    empty_annotation: Callable[[list[AssetDims]], dict]
    template: str
    asset_roles: tuple[str, ...] = ()  # exact roles in order (e.g. original, photo); empty = 1..n shots
    exports: dict[str, ExportFormat] = field(default_factory=dict)
    slices: Callable[[dict, dict], list[str]] = lambda annotation, meta: []
    count_edits: Callable[[dict | None, dict], int] | None = None
    json_schema: dict = field(default_factory=dict)  # the annotation's JSON Schema, published in OpenAPI
    # Import of existing annotations beside the images: a reader per file suffix (".json", ".xml") giving
    # {image file name: part}, and how an item's annotation is made of its images' parts (None: not named):
    # the annotation, or an ``Imported`` (the annotation or None, and facts to merge into the item's meta).
    import_readers: dict[str, Callable[[bytes], dict[str, Any]]] = field(default_factory=dict)
    import_assemble: Callable[[list[Any], list[AssetDims]], dict | Imported] | None = None
    # The reviewer's view of an answer against what it started from (None: nothing yet; the empty
    # annotation stands for "nothing"): {"added": [shape], "removed": [shape], "changed": [{"before",
    # "after"}]}, each shape as the kind draws it (e.g. {"shot": i, ...defect}), plus anything else it can say.
    review_diff: Callable[[dict | None, dict], dict] | None = None
    # Label quality. An operator's answer on a control item against its truth, by the kind's own measure:
    # (truth, answer, image sizes) -> {"accuracy": 0..1, ...the measures behind it} (None: not scored).
    control_score: Callable[[dict, dict, list[AssetDims]], dict] | None = None
    # An accepted answer the model's proposal contradicts with high confidence: (answer, proposal payload,
    # proposal scores, thresholds) -> {"confidence": 0..1, ...why} or None (None as the hook: never suspect).
    # ``thresholds`` has a value for each of ``suspect_thresholds`` (the project's, else the default).
    suspect_check: Callable[[dict, dict, dict, dict], dict | None] | None = None
    suspect_thresholds: tuple[SuspectThreshold, ...] = ()
    # The model's confidence in what an accepted answer says, per suspect threshold it informs: (answer,
    # proposal scores) -> {threshold name: [confidence, ...]}. Where a project sets no value, the threshold
    # is learned from its accepted answers as the mean of these (confident learning's per-class threshold:
    # the model's average self-confidence in the class), see ``suspect_thresholds_effective``.
    suspect_self_confidence: Callable[[dict, dict], dict[str, list[float]]] | None = None
    # Figures of a submitted answer stored with its revision and shown to the reviewer, computed here from
    # the answer, the model's proposal it answers ({"id", "payload", "scores"} or None) and the item's meta
    # and image sizes, never taken from the client: (item id, answer, proposal, meta, dims) -> dict or None.
    revision_metrics: Callable[..., dict | None] | None = None
    revision_metrics_schema: dict = field(default_factory=dict)  # their JSON Schema, published in OpenAPI


_REGISTRY: dict[str, KindSpec] = {}


def register_kind(spec: KindSpec) -> None:
    _REGISTRY[spec.name] = spec


def get_kind(name: str) -> KindSpec:
    try:
        return _REGISTRY[name]
    except KeyError:
        raise LookupError(f"unknown task kind {name!r}; registered: {', '.join(sorted(_REGISTRY)) or 'none'}") from None


def kind_names() -> list[str]:
    return sorted(_REGISTRY)


def all_kinds() -> list[KindSpec]:
    return [_REGISTRY[n] for n in kind_names()]


def suspect_thresholds_effective(kind: str, overrides: dict | None,
                                 learned: dict[str, float] | None = None) -> dict[str, float]:
    """The values a kind's suspect check runs with: a project's ``overrides``; else the value ``learned`` from
    its accepted answers, held within the threshold's range; else the kind's default."""
    overrides, learned = overrides or {}, learned or {}
    out = {}
    for t in get_kind(kind).suspect_thresholds:
        if t.name in overrides:
            out[t.name] = overrides[t.name]
        elif t.name in learned and not t.integer:
            out[t.name] = round(min(t.maximum, max(t.minimum, learned[t.name])), 4)
        else:
            out[t.name] = t.default
    return out


def suspect_thresholds_errors(kind: str, values: dict) -> dict[str, str]:
    """What is wrong with ``values`` as a project's suspect thresholds for ``kind`` ({name: message}; empty
    when nothing is): only the kind's names, JSON numbers (integers where counted) within their ranges."""
    known = {t.name: t for t in get_kind(kind).suspect_thresholds}
    errors = {}
    for name, value in values.items():
        spec = known.get(name)
        if spec is None:
            errors[name] = (f"not a suspect threshold of {kind}; its thresholds: {', '.join(known) or 'none'}")
        elif isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
            errors[name] = "must be a number"
        elif spec.integer and not (isinstance(value, int) or float(value).is_integer()):
            errors[name] = "must be a whole number"
        elif not spec.minimum <= value <= spec.maximum:
            errors[name] = f"must be between {spec.minimum:g} and {spec.maximum:g} (got {value:g})"
    return errors
