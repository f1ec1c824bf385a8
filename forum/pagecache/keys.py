"""What a page depends on, and which dependencies a changed row bumps."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

GLOBAL, SEQ, LISTS, ARTICLES, BANNERS = "global", "seq", "lists", "articles", "banners"
#: Every signed-in page depends on it: a write to a member's own state whose member is unknown.
VIEWERS = "viewers"
BUMPS = "forum.pagecache.bumps"
REBUMP = "forum.pagecache.rebump"
HEADER = "X-Cache"

# Endpoint -> the page's own keys (view args filled in). Only these endpoints are cached.
ENDPOINT_KEYS: dict[str, tuple[str, ...]] = {
    "main.index": (LISTS, ARTICLES),
    "questions.index": (LISTS,),
    "questions.tags": (LISTS,),
    "questions.tag": (LISTS,),
    "questions.show": ("questions:{question_id}",),
    "articles.index": (ARTICLES,),
    "articles.show": (ARTICLES, "articles:{article_id}"),
    "search.index": (LISTS, ARTICLES),
    # Atom feeds (forum/views/feeds.py): the keys of the page each follows.
    "feeds.questions": (LISTS,),
    "feeds.unanswered": (LISTS,),
    "feeds.tag": (LISTS,),
    "feeds.question": ("questions:{question_id}",),
    "feeds.articles": (ARTICLES,),
    # A member's questions and answers: any of them written, edited or hidden bumps ``lists``
    # (and its question); a changed name bumps the member's row.
    "feeds.member": (LISTS, "users:{user_id}"),
}
# What the cache stores: pages, and the feeds of forum/views/feeds.py.
CACHEABLE_TYPES = frozenset({"text/html", "application/atom+xml"})

# Tables whose rows no anonymous page shows: per-user state, staff-only data, queues and logs.
IRRELEVANT = frozenset({
    "page_cache_generations", "search_pending", "mail_outbox", "notifications", "notification_preferences",
    "notification_fanouts",  # the followers still to tell: their bell rows bump their pages when written
    "digests_sent", "question_follows", "tag_follows", "announcement_dismissals", "reputation_events", "votes",
    "flags", "moderation_log", "user_notes", "watched_words", "post_mentions", "support_playbooks",
    "support_on_duty", "support_alerts", "canned_replies", "case_events", "support_cases", "suggested_edits",
    "revisions", "question_triage", "user_identities", "user_sessions",
    "uploads", "upload_refs",  # no page loads them: an image is its own response (docs/uploads.md)
    "drafts",  # a member's unsent text: only ever on their own (never cached) pages
    "webhook_endpoints", "webhook_deliveries",  # admin pages and the outbox only
    "site_settings",  # a setting shown on pages bumps ``global`` through SiteSettingChanged
    "deflection_events", "insight_daily", "search_misses_daily",  # insights: on no anonymous page
    "api_tokens", "api_idempotency_keys",  # the API's own rows: settings page and replays only
})

# Small tables each process keeps in memory, loaded again when their key moves
# (``tables.kept``): table -> its generation key. Still IRRELEVANT to pages.
KEPT_TABLES: dict[str, str] = {"watched_words": "table:watched_words", "webhook_endpoints": "table:webhook_endpoints"}

# A member's own state that only their signed-in pages show (their votes, follows, drafts, the
# bell, dismissed banners, flags, suggested edits, support cases): table -> the member's column.
# A write bumps ``viewer:<member>`` (VIEWERS when the member is unknown), which no anonymous page
# reads; the signed-in page cache (``private_hit``) depends on it.
VIEWER_COLUMNS: dict[str, str] = {
    "votes": "user_id", "question_follows": "user_id", "tag_follows": "user_id", "drafts": "user_id",
    "notifications": "user_id", "announcement_dismissals": "user_id", "flags": "flagger_id",
    "suggested_edits": "proposer_id", "support_cases": "asker_id",
}


def viewer_key(user_id: int) -> str:
    """The generation key of member ``user_id``'s own state (VIEWER_COLUMNS)."""
    return f"viewer:{user_id}"


# Columns a row's keys are computed from (selected before an UPDATE or DELETE runs).
KEY_COLUMNS = ("id", "question_id", "answer_id", "article_id", "user_id", "target_type", "target_id",
               "source_type", "source_id", "tag_id", "flagger_id", "proposer_id", "asker_id")
_SOURCE_TABLES = {"question": "questions", "answer": "answers", "comment": "comments", "article": "articles"}
PRESELECT_LIMIT = 1000


def keys_for_row(table: str, row: Mapping[str, Any]) -> set[str] | None:
    """The generation keys a change to ``row`` of ``table`` bumps; None when unknown (-> global).

    ``row`` holds whichever of KEY_COLUMNS are known (a new row may lack its id).
    """
    owner_column = VIEWER_COLUMNS.get(table)
    if owner_column is not None:
        owner = row.get(owner_column)
        return {viewer_key(owner)} if owner is not None else {VIEWERS}
    if table in KEPT_TABLES:
        return {KEPT_TABLES[table]}
    if table in IRRELEVANT:
        return set()
    if table == "announcements":
        return {BANNERS}
    if table == "tag_top_helpers":  # shown on its tag's page, which depends on the tag's row
        return {f"tags:{row['tag_id']}"} if row.get("tag_id") is not None else None
    keys: set[str] = set()
    if row.get("id") is not None:
        keys.add(f"{table}:{row['id']}")
    if row.get("question_id") is not None:
        keys |= {f"questions:{row['question_id']}", LISTS}
    if row.get("answer_id") is not None:
        keys.add(f"answers:{row['answer_id']}")
    if table in ("questions", "answers", "tags"):
        return keys | {LISTS}
    if table in ("articles", "article_tags", "article_feedback"):
        if row.get("article_id") is not None:
            keys.add(f"articles:{row['article_id']}")
        return keys | {ARTICLES}
    if table in ("comments", "question_tags"):
        return keys if row.get("question_id") is not None else None
    if table == "users":
        return keys if row.get("id") is not None else set()  # a new member is on no cached page yet
    if table == "user_badges":
        return {f"users:{row['user_id']}"} if row.get("user_id") is not None else None
    if table == "post_links":
        # A link shows as a card on its source and as a backlink on its target.
        ends = [(row.get("source_type"), row.get("source_id")), (row.get("target_type"), row.get("target_id"))]
        if any(kind not in _SOURCE_TABLES or ident is None for kind, ident in ends):
            return None
        return {f"{_SOURCE_TABLES[str(kind)]}:{ident}" for kind, ident in ends}
    if row.get("question_id") is not None:
        return keys
    return None
