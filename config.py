"""Settings for every environment.

Each class attribute in upper case can be overridden by an environment variable with the
``FORUM_`` prefix (``FORUM_DATABASE_URL`` overrides ``SQLALCHEMY_DATABASE_URI`` through the
alias table below; ``FORUM_ANSWER_MAX_LENGTH`` overrides ``ANSWER_MAX_LENGTH``). Secrets come
only from the environment, never from this file.
"""
from __future__ import annotations

import os
import secrets
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent

# Friendlier environment names for the settings operators touch most.
ALIASES = {
    "FORUM_DATABASE_URL": "SQLALCHEMY_DATABASE_URI",
    "FORUM_SECRET_KEY": "SECRET_KEY",
    "FORUM_REDIS_URL": "REDIS_URL",
    "FORUM_INDEX_DIR": "SEARCH_INDEX_DIR",
}


class Config:
    SECRET_KEY: str | None = None
    SQLALCHEMY_DATABASE_URI: str | None = None  # default: sqlite file in instance/
    SQLALCHEMY_ENGINE_OPTIONS: dict[str, Any] = {"pool_pre_ping": True}
    SEARCH_INDEX_DIR: str | None = None  # default: instance/index; ":memory:" for a RAM index
    # "whoosh": files in SEARCH_INDEX_DIR on this host (the embedded default); "postgres": tables in
    # the PostgreSQL database, shared by every web host (FORUM_SEARCH_BACKEND=postgres).
    SEARCH_BACKEND = "whoosh"
    # Decoded posting lists each process keeps (search/postings.py); a worker's memory grows by
    # up to this much with the variety of searches, not with the forum (docs/performance.md).
    SEARCH_CACHE_MIB = 32
    REDIS_URL: str | None = None
    # Seconds an index write may wait to be coalesced with other commits' writes (0: write after
    # each commit, in the request). With a delay, a background thread per process writes every
    # key noted meanwhile in one Whoosh commit (forum/search_sync.py, docs/performance.md "Writes").
    SEARCH_WRITE_DELAY = 0.0
    # Meaning (docs/search.md "Meaning"): with the `semantic` extra installed, similar-as-you-type
    # and related questions fuse BM25F with sentence-embedding cosines; vectors are computed by the
    # job queue after each commit. EMBEDDING_MODEL (FORUM_EMBEDDING_MODEL) is a model directory;
    # empty: the packaged all-MiniLM-L6-v2. EMBEDDING_THREADS bounds each encode's CPU threads.
    SEMANTIC_SEARCH = True
    EMBEDDING_MODEL = ""
    EMBEDDING_THREADS = 1
    # The encoding service (docs/search.md "The encoding service"): with an address
    # (FORUM_EMBEDDING_SERVICE="unix:/run/forum/encoder.sock" or "127.0.0.1:8765"), web workers and
    # vector writers never load the model; they ask the one process `flask semantic serve` runs.
    # A query waits EMBEDDING_SERVICE_TIMEOUT seconds at most, then searches without meaning.
    # EMBEDDING_SERVICE_KEY authenticates the clients; empty: derived from SECRET_KEY.
    EMBEDDING_SERVICE = ""
    EMBEDDING_SERVICE_TIMEOUT = 2.0
    EMBEDDING_SERVICE_KEY: str | None = None
    # The names the pages say (templates read them through forum/templating.py): the site, the
    # company whose support team answers, and the products customers own.
    SITE_NAME = "Lumen Community"
    COMPANY_NAME = "Brightway"
    PRODUCT_NAME = "Lumen"
    # Limits enforced on the server (forms and services both read them).
    MAX_CONTENT_LENGTH = 256 * 1024  # a 30,000-character post is ~120 KB at worst in UTF-8
    TITLE_MIN_LENGTH = 10
    TITLE_MAX_LENGTH = 150
    BODY_MAX_LENGTH = 30_000
    ANSWER_MAX_LENGTH = 30_000
    COMMENT_MAX_LENGTH = 600
    BIO_MAX_LENGTH = 3_000
    # Words no member's username or display name may contain, even as a look-alike (comma
    # separated; the site and company names are added). Staff are marked by the Staff badge only.
    NAME_RESERVED_WORDS = "staff,support,admin,moderator"
    # A signed-in device's "last seen" is written at most once per this many minutes per
    # device (from the first request after that), so reading pages doesn't write each time.
    SESSION_LAST_SEEN_MINUTES = 5
    TAGS_MAX = 5
    TAG_MAX_LENGTH = 35
    COMMENT_EDIT_SECONDS = 300
    PER_PAGE = 20
    MAX_PAGE = 500
    # Question lists count at most this many rows ("1,000+ questions"): no count grows with the forum.
    LIST_COUNT_CAP = 1_000
    # Home's "N unanswered" link counts at most this many ("100+ unanswered"): home is the most
    # viewed page, and counting 1,000 rows was a fifth of its uncached cost at 1M posts.
    HOME_COUNT_CAP = 100
    # Argon2id with one of the settings OWASP's Password Storage Cheat Sheet lists as giving
    # "an equal level of defense" (m=47 MiB t=1, 19 MiB t=2, 12 MiB t=3, 9 MiB t=4, 7 MiB t=5;
    # p=1): the one with the least memory, m=7 MiB (7,168 KiB), t=5, p=1, at about the CPU
    # of the 19 MiB one. Each sign-in raises the worker's peak memory by the memory cost (a
    # gunicorn worker keeps its high-water mark): RFC 9106's 64 MiB profile was the largest
    # single peak once the search index stopped being copied per worker, and 19 MiB still put a
    # worker over the 150 MiB budget at 200k posts (docs/performance.md, "Memory"). Hashes made with
    # other parameters still verify, and are rehashed with these at the next successful
    # sign-in (argon2's check_needs_rehash in services/accounts.authenticate). Override with
    # FORUM_ARGON2_MEMORY_COST (KiB), FORUM_ARGON2_TIME_COST, FORUM_ARGON2_PARALLELISM.
    ARGON2_TIME_COST = 5
    ARGON2_MEMORY_COST = 7_168
    ARGON2_PARALLELISM = 1
    REMEMBER_COOKIE_DURATION = 60 * 60 * 24 * 30
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    SESSION_PROTECTION = "basic"
    WTF_CSRF_TIME_LIMIT = None  # token lives as long as the session; avoids lost drafts
    CSP_ENABLED = True
    PREFERRED_URL_SCHEME = "http"
    # Moderation (forum/services/safety.py, flags.py, moderation.py).
    # A post flagged "spam" or "rude" by this many different members is hidden until reviewed.
    FLAG_HIDE_THRESHOLD = 3
    # A "new member" has reputation below NEW_MEMBER_REPUTATION AND fewer than NEW_MEMBER_POSTS
    # visible questions + answers; staff are never new. New members' posts with links to other
    # sites (http(s)://, www., absolute Markdown links) wait in the review queue.
    NEW_MEMBER_REPUTATION = 10
    NEW_MEMBER_POSTS = 3
    NEW_MEMBER_LINK_REVIEW = True
    # What new members are told to expect before and after posting something held for review
    # ("usually within 4 hours"): set it to what the moderators really manage.
    REVIEW_USUAL_WAIT_HOURS = 4
    # Posting rate limits: at most N posts of a kind per POST_RATE_WINDOW_MINUTES, counted in the
    # database under a lock per author (so they hold exactly across processes and hosts). 0 means
    # unlimited; staff are never limited.
    POST_RATE_LIMITS_ENABLED = True
    POST_RATE_WINDOW_MINUTES = 10
    POST_RATE_NEW_MEMBER_QUESTIONS = 3
    POST_RATE_NEW_MEMBER_ANSWERS = 5
    POST_RATE_NEW_MEMBER_COMMENTS = 10
    POST_RATE_MEMBER_QUESTIONS = 10
    POST_RATE_MEMBER_ANSWERS = 20
    POST_RATE_MEMBER_COMMENTS = 30
    SUSPEND_MAX_DAYS = 365
    # --- drafts (docs/drafts.md): what a member types in a composer is kept on the server.
    DRAFT_MAX_BYTES = 128 * 1024  # per draft (title + body + tags, UTF-8): a 30,000-character post fits
    DRAFT_MAX_PER_MEMBER = 50  # saving one more drops the member's least recently saved draft
    DRAFT_MAX_AGE_DAYS = 30  # `flask drafts purge` removes drafts not saved for this long
    RATE_LIMIT_DRAFTS_PER_IP = "240 per minute"  # autosaves (drafts.js sends at most ~1 a second while typing)
    RATE_LIMIT_DRAFTS_PER_ACCOUNT = "120 per minute"
    # Held posts don't count toward the posting rate limit; instead a member with this many posts
    # waiting for a moderator can't send another that would be held (429, the text kept). 0: no cap.
    REVIEW_MAX_PENDING_PER_MEMBER = 3
    # Privileges (forum/services/privileges.py): the reputation at which a member may do more.
    # Staff have every privilege. Below PRIVILEGE_EDIT_OTHERS an edit to someone else's post
    # is a suggested edit that waits for a member with PRIVILEGE_REVIEW_EDITS (or staff).
    PRIVILEGE_UPVOTE = 15
    PRIVILEGE_COMMENT_EVERYWHERE = 50
    PRIVILEGE_DOWNVOTE = 125
    PRIVILEGE_EDIT_OTHERS = 2000
    # Reviewing needs the same trust as editing directly: approving applies the edit.
    PRIVILEGE_REVIEW_EDITS = 2000
    # Creating a tag nobody used before (docs/tags.md); below it, members pick existing tags.
    PRIVILEGE_CREATE_TAG = 300
    TAG_WIKI_MAX_LENGTH = 5000  # a tag's description, Markdown, edited by staff
    TAG_SUGGESTIONS_MAX = 8  # tags /tag-suggestions answers per prefix
    # Linked threads and mentions (forum/services/links.py). Full URLs on SITE_URL's host, or
    # on any host in LINK_HOSTS (comma-separated "host[:port]"), count as links to this site.
    SITE_URL = "http://127.0.0.1:5000"
    LINK_HOSTS = ""
    LINKS_MAX = 50  # linked threads recorded (and shown as cards) per post
    # @mentions per post that become links and notify; later @names stay text (docs/links.md: why 10).
    MENTIONS_MAX = 10
    # An answer or comment tells at most this many of its thread's followers itself when a job
    # queue runs (REDIS_URL); the rest hear from a job after the commit, in batches
    # (services/notifications.fan_out), so a post on an incident thread followed by thousands
    # costs what one on a quiet thread does. 0: every follower in the request, always.
    FOLLOWERS_INLINE = 20
    # Support desk (forum/services/support.py, sla.py, cases.py, canned.py).
    SUPPORT_QUEUE_PER_PAGE = 25
    # `flask support sweep`: invite top answerers in the question's tags once this share of
    # the first-response target has passed, at most SUPPORT_INVITE_MAX of them; questions
    # older than SUPPORT_SWEEP_MAX_AGE_DAYS are left alone (they breached long ago).
    SUPPORT_INVITE_AT_PERCENT = 50
    SUPPORT_INVITE_MAX = 3
    SUPPORT_SWEEP_MAX_AGE_DAYS = 30
    # `flask jobs worker` runs the same sweep this often (cron is only needed without a worker).
    SUPPORT_SWEEP_SECONDS = 300
    CASE_MESSAGE_MAX_LENGTH = 10_000
    CASE_RESOLUTION_MIN_LENGTH = 20
    CASE_RESOLUTION_MAX_LENGTH = 10_000
    CASE_REOPEN_DAYS = 14  # the customer may reply to a resolved case (reopening it) for this long
    CANNED_REPLY_MAX_LENGTH = 10_000
    # Notifications and e-mail (forum/services/notifications.py, forum/mail.py, forum/jobs.py).
    # SITE_URL (above) is also the base of absolute links in e-mails, which are read outside the site.
    # Without SMTP_HOST, mails are written as .eml files to MAIL_DIR (default instance/mail).
    SMTP_HOST: str | None = None
    SMTP_PORT = 25
    SMTP_USERNAME: str | None = None
    SMTP_PASSWORD: str | None = None
    SMTP_STARTTLS = False
    SMTP_SSL = False
    SMTP_TIMEOUT = 10.0
    MAIL_FROM = "Lumen Community <no-reply@lumen.example>"
    MAIL_DIR: str | None = None
    # A failed send waits MAIL_RETRY_BASE_SECONDS * 2**(attempts-1), then is "failed" after MAIL_MAX_ATTEMPTS.
    MAIL_MAX_ATTEMPTS = 6
    MAIL_RETRY_BASE_SECONDS = 60
    # A mail stuck in "sending" this long (a worker died mid-send) is due again.
    MAIL_SENDING_STALE_SECONDS = 600
    UNSUBSCRIBE_MAX_AGE_DAYS = 180
    NOTIFICATIONS_PER_PAGE = 30
    DIGEST_MAX_QUESTIONS = 20
    # RQ queue name used when REDIS_URL is set (jobs run inline without it).
    JOBS_QUEUE = "forum"
    # Votes and fraud (forum/services/votes.py, fraud.py). A member casts at most VOTES_PER_DAY
    # new votes per UTC day (0: unlimited). `flask reputation reverse-serial` reverses the votes
    # of a voter who cast at least SERIAL_VOTE_MIN_VOTES on one member's posts within
    # SERIAL_VOTE_WINDOW_HOURS.
    VOTES_PER_DAY = 40
    SERIAL_VOTE_MIN_VOTES = 5
    SERIAL_VOTE_WINDOW_HOURS = 24
    # --- thanks (docs/solved-too.md) ---
    # New "This solved my problem too" marks per member per UTC day (0: unlimited).
    SOLVED_TOO_PER_DAY = 40
    # Page views are counted in Redis (REDIS_URL) or in process memory and added to the
    # questions' and articles' view_count every this many seconds by a thread in each web
    # process (0: only by `flask views flush`). Crawlers and HEAD requests are not counted.
    VIEW_COUNTS_ENABLED = True
    VIEW_FLUSH_SECONDS = 60
    # --- Insights (docs/insights.md) ----------------------------------------------------------
    # Deflection: moments a visitor found an answer instead of asking (services/deflection.py).
    # All five can be changed at run time on /admin/settings.
    INSIGHTS_ENABLED = True
    # An opened suggestion or search result counts once this many minutes pass with no question
    # from the same visitor.
    DEFLECTION_WINDOW_MINUTES = 30
    # Raw events are deleted after this many days; the daily counts stay.
    INSIGHTS_RETENTION_DAYS = 30
    # Estimated savings per deflection: an assisted contact (a call, a ticket) minus a
    # self-service answer, in cents (industry midpoints: $2-5 and $0.25-0.40).
    INSIGHTS_COST_ASSISTED_CENTS = 350
    INSIGHTS_COST_SELF_SERVICE_CENTS = 35
    # --- Integrations (docs/webhooks.md, docs/support.md "CRM") ------------------------------
    # Webhook targets on loopback, private, link-local, multicast or reserved addresses are
    # refused unless this is on (run-time setting; tests turn it on for their 127.0.0.1 receiver).
    WEBHOOKS_ALLOW_PRIVATE = False
    # Connect and read timeout of one delivery attempt, in seconds.
    WEBHOOK_TIMEOUT_SECONDS = 5.0
    # A failed delivery waits BASE * 2**(attempts-1) seconds, at most MAX, until it is
    # WEBHOOK_GIVE_UP_HOURS old; an endpoint failing without a success for
    # WEBHOOK_DISABLE_AFTER_HOURS is disabled and its admins told.
    WEBHOOK_RETRY_BASE_SECONDS = 60
    WEBHOOK_RETRY_MAX_SECONDS = 3600
    WEBHOOK_GIVE_UP_HOURS = 24
    WEBHOOK_DISABLE_AFTER_HOURS = 24
    # A claimed delivery whose worker died is due again after this many seconds.
    WEBHOOK_CLAIM_SECONDS = 120
    # Link a case's external reference: "https://crm.example.com/tickets/{ref}" (empty: plain text).
    CRM_CASE_URL = ""
    # --- REST API (docs/api.md) ----------------------------------------------------------------
    # Personal access tokens: at most this many live tokens per member; expiry chosen at creation
    # (days, at most API_TOKEN_MAX_DAYS); "last used" written at most once per this many seconds.
    API_TOKENS_PER_USER = 20
    API_TOKEN_MAX_DAYS = 365
    API_TOKEN_LAST_USED_SECONDS = 60
    # A create retried with the same Idempotency-Key within this many hours gets the first answer.
    API_IDEMPOTENCY_HOURS = 24
    # Items per page of a list (?limit=, at most API_PAGE_MAX).
    API_PAGE_SIZE = 20
    API_PAGE_MAX = 100
    # --- Several hosts (docs/deploy.md) -------------------------------------------------------
    # Sign-in throttle (forum/services/throttle.py): failed sign-ins counted in a moving window,
    # in Redis when REDIS_URL is set (shared by every host and worker), in process memory
    # otherwise. Limits use the `limits` package's notation ("10 per 15 minutes", several joined
    # with ";"). Per account: generous and short, so an attacker cannot lock a customer out for
    # long; per client IP: tighter, so one attacker meets the IP limit long before the account's.
    LOGIN_THROTTLE_ENABLED = True
    LOGIN_THROTTLE_PER_ACCOUNT = "20 per 5 minutes"
    LOGIN_THROTTLE_PER_IP = "10 per 15 minutes"
    # A browser where an account signed in is trusted for it this many days (a signed cookie):
    # there the per-account limit counts that browser's failures only, so guesses from many
    # addresses cannot lock the customer out of their own browser.
    LOGIN_DEVICE_DAYS = 180
    # Rate limits per route (forum/ratelimit.py, Flask-Limiter; docs/deploy.md "Rate limits"): per
    # client IP and per signed-in account, counted in Redis when REDIS_URL is set, in process
    # memory otherwise (reset and confirmation mail: the *_THROTTLE_* settings above). `limits` notation; "" turns one
    # off. Set well above what a person does while browsing or typing (the preview and similar
    # questions are fetched as you type, at most about once a second); staff are exempt from
    # the search, similar-questions and preview limits. A refusal is a 429 with Retry-After.
    RATE_LIMITS_ENABLED = True
    RATE_LIMIT_LOGIN_PER_IP = "30 per minute; 300 per hour"  # all sign-in POSTs; failures: LOGIN_THROTTLE_*
    RATE_LIMIT_REGISTER_PER_IP = "20 per hour; 100 per day"
    RATE_LIMIT_PREVIEW_PER_IP = "240 per minute"
    RATE_LIMIT_PREVIEW_PER_ACCOUNT = "120 per minute"
    RATE_LIMIT_SEARCH_PER_IP = "120 per minute; 2000 per hour"
    RATE_LIMIT_SEARCH_PER_ACCOUNT = "60 per minute; 1000 per hour"
    RATE_LIMIT_SIMILAR_PER_IP = "120 per minute"
    RATE_LIMIT_SIMILAR_PER_ACCOUNT = "60 per minute"
    RATE_LIMIT_TAG_SUGGESTIONS_PER_IP = "300 per minute"  # the tag box asks once per word typed
    RATE_LIMIT_TAG_SUGGESTIONS_PER_ACCOUNT = "180 per minute"
    # Deflection beacons (static/js/deflection.js): a few per page at most.
    RATE_LIMIT_BEACON_PER_IP = "120 per minute; 1000 per hour"
    RATE_LIMIT_BEACON_PER_ACCOUNT = "60 per minute"
    # The REST API: every call per client IP, and per token ("PER_ACCOUNT" counts the token).
    RATE_LIMIT_API_PER_IP = "600 per minute"
    RATE_LIMIT_API_PER_ACCOUNT = "300 per minute; 5000 per hour"
    # Account mail (forum/services/account_mail.py, verification.py, password_reset.py). A reset
    # link works once and for PASSWORD_RESET_MAX_AGE seconds; a confirmation link for
    # EMAIL_VERIFY_MAX_AGE seconds. Requests for either are counted like sign-in failures (same
    # store, same notation): reset requests per address asked for and per client IP, "send the
    # confirmation again" per account. Every request counts, whether or not an account has the
    # address, so the answer tells nothing.
    PASSWORD_RESET_MAX_AGE = 3600
    EMAIL_VERIFY_MAX_AGE = 3 * 24 * 3600
    PASSWORD_RESET_THROTTLE_PER_ADDRESS = "3 per hour"
    PASSWORD_RESET_THROTTLE_PER_IP = "10 per hour"
    EMAIL_VERIFY_THROTTLE_PER_ACCOUNT = "3 per hour"
    # Single sign-on with the company's account (OpenID Connect; forum/services/sso.py, README
    # "Single sign-on"). On when OIDC_ISSUER and OIDC_CLIENT_ID are set; endpoints and keys come
    # from <issuer>/.well-known/openid-configuration. Register SITE_URL + "/sso/callback" as the
    # redirect URI at the provider. The secret comes from the environment only.
    OIDC_ISSUER: str | None = None
    OIDC_CLIENT_ID: str | None = None
    OIDC_CLIENT_SECRET: str | None = None  # unset: a public client (PKCE alone)
    OIDC_SCOPES = "openid email profile"
    OIDC_LABEL = ""  # the button's text; empty: "Sign in with <COMPANY_NAME>"
    OIDC_TIMEOUT = 10.0  # seconds for each call to the provider
    # Members sign in only through the provider and cannot register with a password; staff keep
    # a break-glass password sign-in at /login?password=1 (refused for members).
    SSO_ONLY = False
    # Prefix of this site's keys in a shared Redis (several sites, or test runs, in one database).
    REDIS_KEY_PREFIX = "forum"
    # Behind a reverse proxy: how many proxies set each X-Forwarded-* header (werkzeug ProxyFix).
    # 0 (the default) trusts none of them, so a client cannot pick its own IP by sending the header.
    PROXY_FIX_X_FOR = 0
    PROXY_FIX_X_PROTO = 0
    PROXY_FIX_X_HOST = 0
    PROXY_FIX_X_PORT = 0
    PROXY_FIX_X_PREFIX = 0
    # Anonymous page cache (forum/pagecache/): whole pages for visitors who are not signed in,
    # invalidated by the writes that change them. In Redis when REDIS_URL is set, else in each
    # process (PAGE_CACHE_MAX_BYTES of pages) with generations in the database. A page lives at
    # most PAGE_CACHE_TTL seconds (a safety net, and the drift of "5 minutes ago" labels).
    PAGE_CACHE_ENABLED = True
    PAGE_CACHE_TTL = 300
    PAGE_CACHE_MAX_BYTES = 32 * 1024 * 1024  # about 1,600 question pages; counts towards each worker's RSS
    PAGE_CACHE_PREFIX = "forum:pagecache:"
    # A signed-in member's own question page, kept in their worker until anything it showed
    # changes (forum/pagecache: private_hit): members, not staff. PAGE_CACHE_SIGNED_IN_MAX_BYTES
    # bounds these pages per process, apart from the shared ones (about 400 question pages).
    PAGE_CACHE_SIGNED_IN = True
    PAGE_CACHE_SIGNED_IN_MAX_BYTES = 8 * 1024 * 1024
    # --- uploads: images in posts (forum/services/uploads.py, docs/uploads.md). Stored in the
    # database ("db", every web host sees them) or in a directory every host mounts ("fs",
    # UPLOAD_DIR; default instance/uploads). Files over UPLOAD_MAX_BYTES or UPLOAD_MAX_PIXELS are
    # refused; uploads no post references are deleted by `flask uploads cleanup` once older than
    # UPLOAD_ORPHAN_HOURS. REMOTE_IMAGES: Markdown images from other hosts show as images (and the
    # CSP allows https: images) instead of links, so readers' browsers fetch from those hosts.
    UPLOAD_STORE = "db"
    UPLOAD_DIR: str | None = None
    UPLOAD_MAX_BYTES = 5 * 1024 * 1024
    UPLOAD_MAX_PIXELS = 40_000_000
    UPLOAD_ORPHAN_HOURS = 24
    REMOTE_IMAGES = False
    RATE_LIMIT_UPLOAD_PER_IP = "30 per minute; 300 per hour"
    RATE_LIMIT_UPLOAD_PER_ACCOUNT = "20 per minute; 200 per day"

    # --- admin ---
    # The footer's line after the site name ("": "customers helping customers, with the
    # COMPANY_NAME support team"); admins may change it at /admin/settings, like the other
    # settings listed in forum/services/site_settings.py (docs/admin.md). Each process reloads
    # changed settings at most this often, so every host has a change within it.
    SITE_TAGLINE = ""
    SITE_SETTINGS_REFRESH_SECONDS = 5.0


class DevelopmentConfig(Config):
    DEBUG = False  # `make run` serves without the debugger so it is safe on a shared LAN


class TestingConfig(Config):
    TESTING = True
    SECRET_KEY = "testing-only-not-secret"
    SQLALCHEMY_DATABASE_URI = "sqlite://"
    SEARCH_INDEX_DIR = ":memory:"  # an in-memory index per app
    SEMANTIC_SEARCH = False  # loading the model costs seconds: the tests of meaning turn it on
    # One load of the stored site settings per test app (a change expires it in its own
    # process): a reload every few seconds would add a statement to whichever request it
    # fell on and make query-count budgets flaky. Tests of the refresh set their own interval.
    SITE_SETTINGS_REFRESH_SECONDS = 3600.0
    # Fast hashes in tests; a dedicated test checks the production parameters.
    ARGON2_TIME_COST = 1
    ARGON2_MEMORY_COST = 1024
    ARGON2_PARALLELISM = 1
    # Most tests post many times from fresh accounts; the moderation tests turn these back on.
    POST_RATE_LIMITS_ENABLED = False
    # Most tests search and sign in many times from one address; tests/web/test_rate_limits.py turns it on.
    RATE_LIMITS_ENABLED = False
    NEW_MEMBER_LINK_REVIEW = False
    # Most tests vote and comment from fresh accounts (reputation 1); the privilege tests put
    # the production thresholds back. The edit threshold stays at its default.
    PRIVILEGE_UPVOTE = 1
    PRIVILEGE_COMMENT_EVERYWHERE = 1
    PRIVILEGE_DOWNVOTE = 1
    # Most tests tag questions with names nobody used before; tests/services/test_tags.py
    # and tests/web/test_tags_pages.py put the production threshold back.
    PRIVILEGE_CREATE_TAG = 1
    # Mails from ordinary tests go to a scratch folder, not the checkout's instance/.
    MAIL_DIR = os.path.join(tempfile.gettempdir(), "forum-test-mail")
    # Pages from the cache would hide what most tests check; tests/web/test_page_cache.py turns it on.
    PAGE_CACHE_ENABLED = False
    # Tests flush view counts themselves (forum/viewcounts.py).
    VIEW_FLUSH_SECONDS = 0


class ProductionConfig(Config):
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True
    PREFERRED_URL_SCHEME = "https"


CONFIGS: dict[str, type[Config]] = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}


def _coerce(current: Any, raw: str) -> Any:
    """Convert an environment string to the type of the default it replaces."""
    if isinstance(current, bool):
        return raw.strip().lower() in {"1", "true", "yes", "on"}
    if isinstance(current, int):
        return int(raw)
    if isinstance(current, float):
        return float(raw)
    return raw


def settings_from_env(config: type[Config], environ: dict[str, str] | None = None) -> dict[str, Any]:
    """Return the settings of ``config`` with ``FORUM_*`` environment overrides applied.

    Raises ValueError when a numeric setting is given a non-numeric value, so a typo in a
    deployment fails at start-up instead of at the first request.
    """
    environ = dict(os.environ if environ is None else environ)
    settings = {k: getattr(config, k) for k in dir(config) if k.isupper()}
    for env_name, raw in environ.items():
        if not env_name.startswith("FORUM_"):
            continue
        key = ALIASES.get(env_name, env_name[len("FORUM_"):])
        if key in settings or env_name in ALIASES:
            try:
                settings[key] = _coerce(settings.get(key), raw)
            except ValueError as exc:
                raise ValueError(f"{env_name}={raw!r} is not a valid value") from exc
    return settings


def development_secret_key(instance_path: Path) -> str:
    """Return the development secret key, generating it once into ``instance/``."""
    path = instance_path / "secret_key"
    if path.exists():
        return path.read_text().strip()
    instance_path.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    # 0600: the key signs sessions; other local users must not read it.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(key)
    return key
