"""Plain SQLAlchemy models: no commits, no url_for, no request handling."""
from .article import ARTICLE_STATES, Article, ArticleFeedback, article_tags
from .badge import UserBadge
from .moderation import (
    FLAG_REASONS,
    POST_TYPES,
    Announcement,
    AnnouncementDismissal,
    Flag,
    ModerationLog,
    UserNote,
    WatchedWord,
)
from .post import Answer, Comment, Question, Revision, SearchPending, Tag, question_tags
from .reputation import ReputationEvent, Vote
from .user import STAFF_ROLES, Role, User

__all__ = [
    "ARTICLE_STATES", "Announcement", "AnnouncementDismissal", "Answer", "Article", "ArticleFeedback", "Comment",
    "FLAG_REASONS", "Flag", "ModerationLog", "POST_TYPES", "Question", "ReputationEvent", "Revision", "Role", "STAFF_ROLES",
    "SearchPending", "Tag", "User", "UserBadge", "UserNote", "Vote", "WatchedWord", "article_tags", "question_tags",
]
