"""Page data for the pages other than the question page (that one is services/threads.py).

Each function returns everything its template renders, so templates run no query of their own
(tests/web/test_page_data.py). They compose the read functions of the other services.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ..models import CannedReply, CaseEvent, Draft, Question, SupportCase, Tag, User
from . import badges
from .canned import all_replies
from .cases import pending_reply, reopen_until, timeline
from .curation import pinned_questions
from .drafts import drafts_for
from .following import follows_tag
from .moderation import UserTools, user_tools
from .pagination import Page
from .permissions import can
from .profiles import Profile, get_profile
from .questions import get_tag, list_questions
from .reach import Helper, top_helpers


@dataclass(frozen=True)
class ProfilePage:
    profile: Profile
    badges: badges.ProfileBadges
    moderator_tools: UserTools | None  # notes and restrictions, for moderators only


def profile_page(user_id: int, tab: str, page: int, viewer: User | None) -> ProfilePage:
    """A member's profile as ``viewer`` sees it. Raises NotFound for an unknown member."""
    profile = get_profile(user_id, tab, page)
    user = profile.user
    tools = user_tools(viewer, user) if viewer is not None and can(viewer, "note_user", user) else None
    return ProfilePage(profile=profile, badges=badges.profile_badges(user), moderator_tools=tools)


@dataclass(frozen=True)
class TagPage:
    tag: Tag
    questions: Page[Question]
    pinned: list[Question]  # shown above the first page only
    following: bool  # whether the viewer follows the tag
    top_helpers: list[Helper]  # most accepted answers in the tag lately (services/reach.py)


def tag_page(name: str, tab: str, page: int, viewer: User | None) -> TagPage:
    """The questions under one tag. Raises NotFound for an unknown tag."""
    tag = get_tag(name)
    questions = list_questions(tab, page, tag=tag)
    return TagPage(tag=tag, questions=questions,
                   pinned=pinned_questions(tag_id=tag.id) if questions.page == 1 else [],
                   following=can(viewer, "follow", tag) and follows_tag(viewer, tag),
                   top_helpers=top_helpers(tag.id))


@dataclass(frozen=True)
class CasePage:
    case: SupportCase
    events: list[CaseEvent]
    canned_replies: list[CannedReply]  # staff: the reply picker's library
    pending_reply: CaseEvent | None  # the customer's message no staff message answered yet
    reopen_until: datetime | None  # a resolved case: the customer's reply reopens it until then
    drafts: dict[str, Draft]  # the viewer's unsent message ("case:<id>") and summary ("resolve:<id>")


def case_page(case: SupportCase, viewer: User | None) -> CasePage:
    """A private support case: its timeline, the reply library for staff who may still write, the
    customer's unanswered reply and, once resolved, until when a reply reopens it."""
    replies: list[CannedReply] = []
    if viewer is not None and can(viewer, "support") and can(viewer, "write_case", case):
        replies = all_replies(viewer)
    events = timeline(case)
    return CasePage(case=case, events=events, canned_replies=replies, pending_reply=pending_reply(case, events),
                    reopen_until=reopen_until(case),
                    drafts=drafts_for(viewer, [f"case:{case.id}", f"resolve:{case.id}"]))

