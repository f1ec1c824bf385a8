"""One blueprint per area; views parse, call one service, commit once, then render."""
from __future__ import annotations

from flask import Flask


def register_blueprints(app: Flask) -> None:
    from . import answers, auth, comments, curation, main, questions, search, users

    for module in (main, auth, users, questions, answers, comments, search, curation):
        app.register_blueprint(module.bp)
    from . import articles  # knowledge-base articles
    app.register_blueprint(articles.bp)
    from . import moderation  # flags, review queue, suspensions, watched words, log
    app.register_blueprint(moderation.bp)
    from . import votes  # up/down votes (reputation)
    app.register_blueprint(votes.bp)
    from . import help, suggestions  # privileges page, suggested edits and their review
    app.register_blueprint(help.bp)
    app.register_blueprint(suggestions.bp)
    from . import links  # composer helpers: link picker, @username suggestions
    app.register_blueprint(links.bp)
    from . import cases, support  # support desk: queue, triage, playbooks, canned replies, private cases
    app.register_blueprint(support.bp)
    app.register_blueprint(cases.bp)
    from . import notifications  # bell, settings, following, unsubscribe
    app.register_blueprint(notifications.bp)
    from . import badges  # badges that reward helping
    app.register_blueprint(badges.bp)
