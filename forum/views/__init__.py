"""One blueprint per area; views parse, call one service, and answer. ``@writes``
(``formglue.py``) wraps every view that answers a POST and commits once for it."""
from __future__ import annotations

from flask import Flask

from . import (
    account,  # password reset, confirming e-mail addresses, devices, data download, deletion
    admin,  # admin area: members and roles, site settings (links /admin/mail)
    answers,
    articles,  # knowledge-base articles
    auth,
    badges,  # badges that reward helping
    cases,  # support desk: private cases
    comments,
    curation,
    deflection,  # insights: the deflection beacon, searches counted after the response
    drafts,  # composers' drafts: autosave and discard
    feeds,  # Atom feeds of the lists, a question, articles and a member
    help,  # privileges page
    insights,  # staff: response times, deflection, savings (/insights)
    links,  # composer helpers: link picker, @username suggestions
    main,
    moderation,  # flags, review queue, suspensions, watched words, log
    notifications,  # bell, settings, following, unsubscribe
    questions,
    search,
    sso,  # single sign-on (OpenID Connect) and linked accounts
    suggestions,  # suggested edits and their review
    support,  # support desk: queue, triage, playbooks, canned replies
    uploads,  # images in posts
    users,
    votes,  # up/down votes (reputation)
)
from .formglue import guard_reads

# The order the blueprints have always been registered in: their context processors and
# template globals are added in this order.
BLUEPRINT_MODULES = (main, auth, users, questions, answers, comments, search, curation, articles, moderation,
                     votes, help, suggestions, links, support, cases, notifications, badges, account, sso,
                     uploads, drafts, admin, deflection, insights, feeds)


def init_app(app: Flask) -> None:
    """Register every blueprint and refuse commits while answering GET/HEAD/OPTIONS."""
    for module in BLUEPRINT_MODULES:
        app.register_blueprint(module.bp)
    guard_reads(app)
