"""What every moderation action shares: the reason kept in the moderation log."""
from __future__ import annotations

from ..errors import FieldError

REASON_MAX = 500


def clean_reason(reason: str, *, required: bool = True) -> str:
    """The reason on one line. Raises FieldError("reason") when missing (if required) or too long."""
    reason = " ".join((reason or "").split())
    if required and not reason:
        raise FieldError("reason", "Give a reason; it is kept in the moderation log.")
    if len(reason) > REASON_MAX:
        raise FieldError("reason", f"Keep the reason under {REASON_MAX} characters.")
    return reason
