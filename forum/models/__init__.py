"""Plain SQLAlchemy models: no commits, no url_for, no request handling."""
from .api_token import TOKEN_SCOPES, ApiIdempotencyKey, ApiToken
from .article import ARTICLE_STATES, Article, ArticleFeedback, article_tags
from .badge import UserBadge
from .device import UserSession
from .draft import Draft
from .identity import UserIdentity
from .insight import EVENT_STATES, DeflectionEvent, InsightDaily, InsightMailSent, SearchMissDaily
from .links import LINK_SOURCES, LINK_TARGETS, PostLink, PostMention
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
from .notification import (
    MAIL_STATES,
    DigestSent,
    Notification,
    NotificationFanout,
    NotificationPreference,
    OutboxMail,
    QuestionFollow,
    TagFollow,
)
from .pagecache import PageCacheGeneration
from .post import Answer, Comment, Question, Revision, SearchPending, Tag, question_tags
from .related import RelatedQuestion, TagTopHelper
from .reputation import ReputationEvent, Vote
from .site_setting import SiteSetting
from .solved_too import SolvedToo
from .suggestion import SUGGESTION_STATES, SuggestedEdit
from .support import (
    CASE_STATUSES,
    SEVERITIES,
    TRIAGE_TYPES,
    CannedReply,
    CaseEvent,
    OnDuty,
    Playbook,
    QuestionTriage,
    SupportAlert,
    SupportCase,
)
from .upload import UPLOAD_SOURCES, UPLOAD_TYPES, Upload, UploadRef
from .user import STAFF_ROLES, Role, User
from .webhook import DELIVERY_STATES, WEBHOOK_FORMATS, WebhookDelivery, WebhookEndpoint

__all__ = [
    "TOKEN_SCOPES",
    "ApiIdempotencyKey",
    "ApiToken",
    "ARTICLE_STATES", "Announcement", "AnnouncementDismissal", "Answer", "Article", "ArticleFeedback", "Comment",
    "FLAG_REASONS", "Flag", "LINK_SOURCES", "LINK_TARGETS", "ModerationLog", "POST_TYPES", "PostLink", "PostMention",
    "Question", "RelatedQuestion", "ReputationEvent", "Revision", "Role", "STAFF_ROLES", "SUGGESTION_STATES", "SearchPending",
    "SuggestedEdit", "Tag", "TagTopHelper",
    "User", "UserBadge", "UserIdentity", "UserNote", "Vote", "WatchedWord", "article_tags", "question_tags",
    "CASE_STATUSES", "SEVERITIES", "TRIAGE_TYPES", "CannedReply", "CaseEvent", "OnDuty", "Playbook", "QuestionTriage",
    "SupportAlert", "SupportCase", "PageCacheGeneration", "UserSession",
    "Draft",
    "UPLOAD_SOURCES", "UPLOAD_TYPES", "Upload", "UploadRef",
    "DigestSent", "MAIL_STATES", "Notification", "NotificationFanout", "NotificationPreference", "OutboxMail",
    "QuestionFollow", "TagFollow",
    "SolvedToo",
    "DELIVERY_STATES", "WEBHOOK_FORMATS", "WebhookDelivery", "WebhookEndpoint",
    "SiteSetting",
    "EVENT_STATES", "DeflectionEvent", "InsightDaily", "InsightMailSent", "SearchMissDaily",
]
