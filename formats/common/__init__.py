"""What every kind's format shares: the validation checker, the item an export sees, geometry, COCO."""
from formats.common.checker import LIMITS, AnnotationError, AssetDims, Checker, is_ncname
from formats.common.items import ExportedItem

__all__ = ["LIMITS", "AnnotationError", "AssetDims", "Checker", "ExportedItem", "is_ncname"]
