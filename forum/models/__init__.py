"""Plain SQLAlchemy models: no commits, no url_for, no request handling."""
from .post import Answer, Comment, Question, Revision, SearchPending, Tag, question_tags
from .user import STAFF_ROLES, Role, User

__all__ = ["Answer", "Comment", "Question", "Revision", "Role", "STAFF_ROLES", "SearchPending", "Tag", "User", "question_tags"]
