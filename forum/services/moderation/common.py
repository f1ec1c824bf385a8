"""What every moderation action shares: the reason kept in the moderation log."""
from __future__ import annotations

from ..errors import FieldError
from ..posts import without_nul

REASON_MAX = 500


def clean_reason(reason: str, *, required: bool = True, limit: int = REASON_MAX) -> str:
    """The reason on one line, without NULs. Raises FieldError("reason") when missing (if
    required) or longer than ``limit``."""
    reason = " ".join(without_nul(reason or "").split())
    if required and not reason:
        raise FieldError("reason", "Give a reason; it is kept in the moderation log.")
    if len(reason) > limit:
        raise FieldError("reason", f"Keep the reason under {limit} characters (this is {len(reason)}).")
    return reason
