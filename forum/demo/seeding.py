"""Load the demo community through the same services a user goes through."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select, update

from ..extensions import db
from ..models import (
    Answer,
    Article,
    Comment,
    Flag,
    Notification,
    Question,
    ReputationEvent,
    Revision,
    Role,
    SuggestedEdit,
    Tag,
    User,
    UserBadge,
    Vote,
)
from ..models.base import utcnow
from ..models.kinds import LedgerReason
from ..services import (
    accounts,
    answers,
    articles,
    badges,
    comments,
    curation,
    flags,
    following,
    fraud,
    notifications,
    questions,
    reputation,
    solved_too,
    suggestions,
    votes,
)
from ..services.moderation import act_on_flags
from ..services.permissions import can
from . import content, support_desk
from . import insights as demo_insights


def seed() -> dict[str, int]:
    """Create the demo users, tags, questions, answers and comments (flushed, not committed).

    The activity fills the demo members' bells, but sends no e-mail to the demo addresses.
    Raises FieldError if the content breaks a rule (the demo data is tested against them).
    """
    with notifications.without_email():
        return _seed()


def _seed() -> dict[str, int]:
    now = utcnow()
    users: dict[str, User] = {}
    for spec in content.USERS:
        user = accounts.register(
            accounts.Registration(spec["username"], spec["email"], content.DEMO_PASSWORD),
            role=Role(spec["role"]), allow_reserved=True, verified=True,
        )
        accounts.update_profile(user, spec["display_name"], spec["bio"])
        users[spec["username"]] = user
    db.session.flush()
    for username, amount in content.STARTING_REPUTATION.items():
        reputation.record_adjustment(users[username].id, amount - 1, LedgerReason.DEMO_HISTORY)
    db.session.execute(update(ReputationEvent).where(ReputationEvent.reason == LedgerReason.DEMO_HISTORY)
                       .values(created_at=now - timedelta(days=90)))
    for user in users.values():
        db.session.refresh(user, ["reputation"])
    for tag in content.TAGS:
        db.session.add(Tag(name=tag["name"], description=tag["description"], question_count=0))
    db.session.flush()

    counts = {"users": len(users), "tags": len(content.TAGS), "questions": 0, "answers": 0, "comments": 0}
    for qspec in content.QUESTIONS:
        asked = now - timedelta(days=qspec["days_ago"])
        q = questions.ask_question(users[qspec["author"]], questions.QuestionInput(
            qspec["title"], qspec["body"], " ".join(qspec["tags"])))
        _backdate(Question, q.id, asked, last_activity=True)
        db.session.execute(update(Revision).where(Revision.question_id == q.id).values(created_at=asked))
        counts["questions"] += 1
        latest = asked
        for cspec in qspec.get("comments", []):
            c = comments.add_comment(users[cspec["author"]], q, cspec["body"])
            when = asked + timedelta(minutes=cspec["minutes_after"])
            _backdate(Comment, c.id, when)
            latest = max(latest, when)
            counts["comments"] += 1
        for aspec in qspec.get("answers", []):
            a = answers.post_answer(users[aspec["author"]], q, aspec["body"])
            when = asked + timedelta(minutes=aspec["minutes_after"])
            _backdate(Answer, a.id, when)
            db.session.execute(update(Revision).where(Revision.answer_id == a.id).values(created_at=when))
            latest = max(latest, when)
            counts["answers"] += 1
            if aspec.get("accepted"):
                curation.accept_answer(users[qspec["author"]], a)
                db.session.execute(update(Question).where(Question.id == q.id).values(
                    accepted_at=min(when + timedelta(hours=2), now)))
            for cspec in aspec.get("comments", []):
                c = comments.add_comment(users[cspec["author"]], a, cspec["body"])
                cwhen = asked + timedelta(minutes=cspec["minutes_after"])
                _backdate(Comment, c.id, cwhen)
                latest = max(latest, cwhen)
                counts["comments"] += 1
        db.session.execute(update(Question).where(Question.id == q.id).values(last_activity_at=min(latest, now)))
    counts["votes"] = _seed_votes(list(users.values()), now)
    counts["serial votes reversed"] = _seed_serial_voter(users[content.USERS[1]["username"]])
    counts["suggested edits"] = _suggest_edits(users, now)
    counts["articles"] = 0
    for guide in content.ARTICLES:
        article = articles.create_article(users[guide["author"]], articles.ArticleInput(
            guide["title"], guide["body"], " ".join(guide["tags"])))
        articles.set_state(users[guide["author"]], article, "published")
        when = now - timedelta(days=guide["days_ago"])
        db.session.execute(update(Article).where(Article.id == article.id).values(
            created_at=when, updated_at=when, published_at=when))
        counts["articles"] += 1
        # A few customers found each guide helpful (the article's counter and a "Well Read" badge).
        for spec_user in [u for u in content.USERS if u["role"] == "member"][:3]:
            articles.rate_article(users[spec_user["username"]], article, True)
    counts["comments"] += _seed_thread_links(users, now)
    counts["flags"] = _seed_flags(users, now)
    counts["solved-too marks"] = _seed_solved_too(list(users.values()))
    counts.update(support_desk.seed(users))
    counts.update(demo_insights.seed(now))  # a month of deflection counts for /insights
    for username, names in content.TAG_FOLLOWS.items():
        for name in names:
            following.follow_tag(users[username], questions.get_tag(name))
    db.session.flush()
    # Events award most badges as the content goes in; the pass catches the rest (backdated rows).
    badges.award_all()
    counts["badges"] = db.session.scalar(select(func.count(UserBadge.id))) or 0
    _settle_notifications(now)
    db.session.expire_all()
    return counts


def _suggest_edits(users: dict[str, User], now: datetime) -> int:
    """Suggested edits in every state: approved (credited in the history), rejected, pending."""
    thread_ids = list(db.session.scalars(select(Question.id).order_by(Question.id)))
    for n, spec in enumerate(content.SUGGESTED_EDITS):
        question = db.session.get_one(Question, thread_ids[spec["question"]])
        proposer = users[spec["author"]]
        if spec["answer_by"]:
            post = db.session.scalars(select(Answer).where(Answer.question_id == question.id,
                                                           Answer.author_id == users[spec["answer_by"]].id)).one()
            s = suggestions.suggest_answer_edit(proposer, post, f"{post.body}\n\n{spec['append']}", spec["summary"])
        else:
            s = suggestions.suggest_question_edit(proposer, question, questions.QuestionInput(
                question.title, f"{question.body}\n\n{spec['append']}", " ".join(t.name for t in question.tags)),
                spec["summary"])
        if spec["decision"] == "approve":
            suggestions.approve(users[spec["reviewer"]], s)
        elif spec["decision"] == "reject":
            suggestions.reject(users[spec["reviewer"]], s, spec["reason"])
        db.session.execute(update(SuggestedEdit).where(SuggestedEdit.id == s.id).values(
            created_at=now - timedelta(days=2, hours=n)))
    return len(content.SUGGESTED_EDITS)


def _seed_thread_links(users: dict[str, User], now: datetime) -> int:
    """Staff comments that link related threads and mention the asker (content.THREAD_LINKS)."""
    threads = {q.title: q for q in db.session.scalars(select(Question))}
    guides = {a.title: a for a in db.session.scalars(select(Article))}
    n = 0
    for spec in content.THREAD_LINKS:
        on = threads[spec["on"]]
        target = f"#{threads[spec['to']].id}" if spec["to"] in threads else f"/articles/{guides[spec['to']].id}"
        before = on.last_activity_at
        c = comments.add_comment(users[spec["author"]], on, spec["body"].format(target=target, asker=on.author.username))
        when = min(on.created_at + timedelta(hours=spec["hours_after"]), now)
        _backdate(Comment, c.id, when)
        db.session.execute(update(Question).where(Question.id == on.id).values(last_activity_at=max(before, when)))
        n += 1
    return n


def _seed_flags(users: dict[str, User], now: datetime) -> int:
    """Flags through the real services (content.FLAGS), backdated: the queue and /insights show them."""
    threads = {q.title: q for q in db.session.scalars(select(Question))}
    for spec in content.FLAGS:
        question = threads[spec["on"]]
        post: Question | Comment = question
        if spec["comment_by"]:
            post = db.session.scalars(select(Comment).where(
                Comment.question_id == question.id, Comment.author_id == users[spec["comment_by"]].id)
                .order_by(Comment.id).limit(1)).one()
        kind = flags.post_type_of(post)
        flag = flags.flag_post(users[spec["flagger"]], kind, post.id, spec["reason"], spec["note"])
        raised = now - timedelta(days=spec["days_ago"])
        resolved: dict[str, object] = {}
        if spec["moderator"]:
            act_on_flags(users[spec["moderator"]], kind, post.id, spec["action"])
            resolved = {"resolved_at": raised + timedelta(hours=spec["hours_later"])}
        db.session.execute(update(Flag).where(Flag.id == flag.id).values(created_at=raised, **resolved))
    return len(content.FLAGS)


def _seed_votes(members: list[User], now: datetime) -> int:
    """Votes from a rotating handful of members on every post, dated a few hours after it,
    so profiles show a reputation history and the leaderboards have a week and a month.

    Ledger rows are backdated with their votes (and acceptances with the acceptance), which
    also keeps the daily caps out of the way: each vote goes through cast_vote like a click.
    """
    for i, user in enumerate(members):  # members joined before they posted
        user.created_at = now - timedelta(days=75 + 4 * i)
    db.session.flush()
    cast = 0
    posts: list[Question | Answer] = [*db.session.scalars(select(Question).order_by(Question.id)),
                                      *db.session.scalars(select(Answer).order_by(Answer.id))]
    for n, post in enumerate(posts):
        wanted = (n * 7 + 3) % 6 + (2 if post.kind == "answer" else 0)
        offset = n % len(members)
        voters = [m for m in members[offset:] + members[:offset] if can(m, "vote", post)]
        k = 0
        for voter in voters:
            if k == wanted:
                break
            value = -1 if (n + k) % 11 == 0 else 1
            if not can(voter, "vote_up" if value == 1 else "vote_down", post):
                continue  # below the privilege threshold (services/privileges.py)
            votes.cast_vote(voter, post.kind, post.id, value)
            when = min(post.created_at + timedelta(hours=2 + 5 * k), now)
            db.session.execute(update(Vote).where(Vote.user_id == voter.id, Vote.post_type == post.kind,
                                                  Vote.post_id == post.id).values(created_at=when, updated_at=when))
            db.session.execute(update(ReputationEvent).where(
                ReputationEvent.actor_id == voter.id, ReputationEvent.post_type == post.kind,
                ReputationEvent.post_id == post.id).values(created_at=when))
            cast += 1
            k += 1
    for q in db.session.scalars(select(Question).where(Question.accepted_answer_id.is_not(None))):
        db.session.execute(update(ReputationEvent).where(
            ReputationEvent.post_type == "answer", ReputationEvent.post_id == q.accepted_answer_id,
            ReputationEvent.reason.in_(("accepted", "accept"))).values(created_at=q.accepted_at))
    return cast


def _seed_solved_too(members: list[User]) -> int:
    """A few members say each solved thread solved their problem too (through the service, so
    the helped counts are right), and every question and article gets a plausible view count
    (views are written in bulk anyway: forum/viewcounts.py)."""
    marked = 0
    solved = list(db.session.scalars(select(Question).where(Question.accepted_answer_id.is_not(None))
                                      .order_by(Question.id)))
    for n, question in enumerate(solved):
        for m in [m for m in members if can(m, "solved_too", question)][n % 3: n % 3 + (n * 5) % 4 + 1]:
            solved_too.toggle(m, question.id, True)
            marked += 1
    db.session.execute(update(Question).values(
        view_count=12 + (Question.id * 37) % 240 + 9 * Question.score + 15 * Question.solved_too_count))
    db.session.execute(update(Article).values(view_count=140 + (Article.id * 53) % 400))
    return marked


def _seed_serial_voter(target: User) -> int:
    """A sock puppet upvotes six of one member's posts today; the system's serial-voting sweep
    (`flask reputation reverse-serial`) reverses them, so staff see the entry in the moderation log."""
    puppet = accounts.register(accounts.Registration("lumen_fan_2026", "lumen.fan.2026@example.com",
                                                     content.DEMO_PASSWORD), verified=True)
    # Enough reputation to upvote (PRIVILEGE_UPVOTE), as a puppet farmed before it struck.
    reputation.record_adjustment(puppet.id, 19, LedgerReason.DEMO_HISTORY)
    db.session.refresh(puppet, ["reputation"])
    targets = [*db.session.scalars(select(Answer).where(Answer.author_id == target.id).order_by(Answer.id)),
               *db.session.scalars(select(Question).where(Question.author_id == target.id).order_by(Question.id))]
    for post in targets[:6]:
        votes.cast_vote(puppet, post.kind, post.id, 1)
    return sum(len(r.pair.vote_ids) for r in fraud.reverse_serial(None, 5, 24))


def _backdate(model: type[Question | Answer | Comment], row_id: int, when: datetime,
              last_activity: bool = False) -> None:
    values = {"created_at": when}
    if last_activity:
        values["last_activity_at"] = when
    db.session.execute(update(model).where(model.id == row_id).values(**values),
                       execution_options={"synchronize_session": False})


def _settle_notifications(now: datetime) -> None:
    """Date the seeded notifications like the posts they point to; those older than a week are read."""
    week_ago = now - timedelta(days=7)
    for n in db.session.scalars(db.select(Notification)):
        kind, _, ident = n.url.rpartition("#")[2].partition("-")
        post: Answer | Comment | None = None
        if kind == "answer" and ident.isdigit():
            post = db.session.get(Answer, int(ident))
        elif kind == "comment" and ident.isdigit():
            post = db.session.get(Comment, int(ident))
        if post is not None:
            n.created_at = post.created_at
            n.read_at = n.created_at if n.created_at < week_ago else None
