"""What the omr item page needs from the format: the reasons an operator may give (``formats.omr``)."""
from django import template

from formats.omr import REASONS

register = template.Library()


@register.simple_tag
def omr_reasons() -> list[str]:
    return list(REASONS)
