"""Tags: who may create one, suggestions by prefix, and the descriptions staff write."""
from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import func, select, text

from config import Config, TestingConfig
from forum.events import Event, TagEdited
from forum.events import publish as real_publish
from forum.extensions import db
from forum.models import ModerationLog, Question, Tag
from forum.services import questions, suggestions, tags
from forum.services.errors import FieldError, FieldErrors, InvalidState, PermissionDenied
from forum.services.permissions import can
from tests.support import HUB_BODY, production_privileges, set_reputation


@pytest.fixture
def real_threshold(app: Any) -> Any:
    """Every production threshold, creating tags (300) included."""
    production_privileges(app, create_tag=True)
    return app


@pytest.fixture
def staff(make_user: Any) -> Any:
    return make_user("agent_tagger", role="agent")


def _ask(author: Any, tag_text: str, title: str = "Hub drops offline every night at two") -> Question:
    q = questions.ask_question(author, questions.QuestionInput(title, HUB_BODY, tag_text))
    db.session.commit()
    return q


def _tag_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Tag)) or 0


# ---------------------------------------------------------------- creating tags


def test_the_threshold_is_300_in_production_and_low_in_tests() -> None:
    assert Config.PRIVILEGE_CREATE_TAG == 300
    assert TestingConfig.PRIVILEGE_CREATE_TAG == 1


def test_below_the_threshold_new_tags_are_refused_by_name_and_nothing_is_created(real_threshold, make_user, staff) -> None:
    _ask(staff, "wifi")
    member = set_reputation(make_user("newbie"), 299)
    before = _tag_count()
    with pytest.raises(FieldError) as err:
        _ask(member, "Hub Offline wifi")
    assert err.value.field == "tags"
    assert err.value.message.startswith(
        "'hub', 'offline' are not tags yet; you need 300 reputation to create tags (you have 299) — pick an existing tag.")
    assert "(hub-offline)" in err.value.message  # the words of one tag are joined with hyphens
    db.session.rollback()
    assert _tag_count() == before
    assert db.session.scalar(select(func.count()).select_from(Question).where(Question.author_id == member.id)) == 0


def test_one_unknown_tag_reads_in_the_singular(real_threshold, make_user) -> None:
    member = set_reputation(make_user(), 12)
    with pytest.raises(FieldError, match=r"^'hub' is not a tag yet; you need 300 reputation to create tags "
                                         r"\(you have 12\) — pick an existing tag\.$"):
        _ask(member, "hub")


def test_existing_tags_need_no_privilege(real_threshold, make_user, staff) -> None:
    _ask(staff, "wifi setup")
    member = make_user()  # reputation 1
    q = _ask(member, "WiFi, setup")
    assert sorted(t.name for t in q.tags) == ["setup", "wifi"]


@pytest.mark.parametrize(("rep", "allowed"), [(299, False), (300, True)])
def test_creating_a_tag_needs_300(real_threshold, make_user, rep: int, allowed: bool) -> None:
    member = set_reputation(make_user(), rep)
    assert can(member, "create_tag") is allowed
    if allowed:
        assert [t.name for t in _ask(member, "hub-offline").tags] == ["hub-offline"]
    else:
        with pytest.raises(FieldError):
            _ask(member, "hub-offline")


def test_staff_always_create_tags(real_threshold, staff) -> None:
    assert staff.reputation < 300
    assert [t.name for t in _ask(staff, "zigbee").tags] == ["zigbee"]


def test_a_changed_threshold_applies_at_once(real_threshold, app, make_user) -> None:
    member = set_reputation(make_user(), 50)
    app.config["PRIVILEGE_CREATE_TAG"] = 50
    assert [t.name for t in _ask(member, "matter").tags] == ["matter"]


def test_the_tag_refusal_comes_with_the_other_field_errors(real_threshold, make_user) -> None:
    member = make_user()
    with pytest.raises(FieldErrors) as err:
        questions.check_question_input(questions.QuestionInput("Short", "too short", "hub"), creator=member)
    fields = {e.field: e.message for e in err.value.each()}
    assert set(fields) == {"title", "body", "tags"}
    assert fields["tags"].startswith("'hub' is not a tag yet")


def test_an_edit_may_keep_its_tags_but_not_add_a_new_one(real_threshold, make_user, staff) -> None:
    _ask(staff, "wifi")
    member = make_user()
    q = _ask(member, "wifi")
    with pytest.raises(FieldError, match="^'mesh' is not a tag yet"):
        questions.edit_question(member, q, questions.QuestionInput(q.title, HUB_BODY + " More.", "wifi mesh"))
    db.session.rollback()
    q = db.session.get(Question, q.id)
    questions.edit_question(member, q, questions.QuestionInput(q.title, HUB_BODY + " More.", "wifi"))
    db.session.commit()
    assert [t.name for t in q.tags] == ["wifi"]


def test_a_suggested_edit_cannot_bring_a_new_tag_either(real_threshold, make_user, staff) -> None:
    q = _ask(staff, "wifi")
    member = make_user()
    with pytest.raises(FieldError, match="^'mesh' is not a tag yet"):
        suggestions.suggest_question_edit(member, q, questions.QuestionInput(q.title, q.body, "wifi mesh"))


# ---------------------------------------------------------------- suggestions


@pytest.fixture
def tagged(app: Any, staff: Any) -> None:
    for tag_text in ("wifi", "wifi", "wifi", "wifi-mesh", "wifi-mesh", "wi", "firmware", "setup"):
        _ask(staff, tag_text)


def test_suggestions_match_the_prefix_ranked_by_use(tagged) -> None:
    found = tags.suggest_tags("wif")
    assert [(t.name, t.count) for t in found] == [("wifi", 3), ("wifi-mesh", 2)]


def test_the_exact_name_comes_first_then_by_use(tagged) -> None:
    assert [t.name for t in tags.suggest_tags("wi")] == ["wi", "wifi", "wifi-mesh"]


def test_suggestions_normalise_what_was_typed(tagged) -> None:
    assert [t.name for t in tags.suggest_tags("  WiFi-M")] == ["wifi-mesh"]
    assert tags.suggest_tags("") == [] and tags.suggest_tags("  ") == []
    assert tags.suggest_tags("%") == [] and tags.suggest_tags("_") == []  # no LIKE wildcards get through


def test_suggestions_are_capped(tagged, app) -> None:
    app.config["TAG_SUGGESTIONS_MAX"] = 1
    assert [t.name for t in tags.suggest_tags("wi")] == ["wi"]


def test_suggestions_carry_the_description_excerpt(tagged, staff) -> None:
    tags.edit_tag_wiki(staff, questions.get_tag("wifi"), "Connecting the hub to **Wi-Fi** routers.\n\nMore later.")
    db.session.commit()
    assert tags.suggest_tags("wifi")[0].excerpt == "Connecting the hub to Wi-Fi routers. More later."


def test_the_prefix_lookup_uses_the_index_on_postgresql(app, database_url: str) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("the text_pattern_ops index is PostgreSQL's")
    db.session.execute(text(
        "INSERT INTO tags (name, description, wiki, wiki_html, question_count, created_at) "
        "SELECT 'tag' || g || '-' || left(md5(g::text), 12), '', '', '', g % 50, now() FROM generate_series(1, 20000) g"))
    db.session.execute(text("ANALYZE tags"))
    # The query as the application sends it: the prefix a bound parameter.
    compiled = tags.suggestion_query("tag123", 8).compile(dialect=db.engine.dialect)
    plan = "\n".join(row[0] for row in db.session.connection().exec_driver_sql(
        "EXPLAIN " + str(compiled), compiled.params))
    assert "ix_tags_name_prefix" in plan, plan
    assert "Seq Scan" not in plan, plan
    db.session.rollback()


# ---------------------------------------------------------------- descriptions


@pytest.fixture
def heard(monkeypatch: pytest.MonkeyPatch) -> list[Event]:
    """The events services/tags.py publishes (still published to the real subscribers)."""
    events: list[Event] = []

    def publish(event: Event) -> None:
        events.append(event)
        real_publish(event)

    monkeypatch.setattr(tags, "publish", publish)
    return events


def test_staff_describe_a_tag_in_markdown(staff, heard) -> None:
    _ask(staff, "wifi")
    tag = questions.get_tag("wifi")
    tags.edit_tag_wiki(staff, tag, "Use for **Wi-Fi** trouble.\n\n- routers\n- mesh")
    db.session.commit()
    db.session.expire_all()
    tag = questions.get_tag("wifi")
    assert tag.wiki == "Use for **Wi-Fi** trouble.\n\n- routers\n- mesh"
    assert "<strong>Wi-Fi</strong>" in tag.wiki_html and "<li>routers</li>" in tag.wiki_html
    assert tag.description == "Use for Wi-Fi trouble. routers mesh"
    assert tag.wiki_edited_at is not None
    entry = db.session.scalars(select(ModerationLog).where(ModerationLog.target_type == "tag")).one()
    assert (entry.action, entry.target_id, entry.actor_id) == ("edit_tag", tag.id, staff.id)
    assert json.loads(entry.after)["wiki"] == tag.wiki and json.loads(entry.before)["wiki"] == ""
    assert [(e.tag_id, e.actor_id) for e in heard if isinstance(e, TagEdited)] == [(tag.id, staff.id)]


def test_raw_html_in_a_description_is_not_kept(staff) -> None:
    _ask(staff, "wifi")
    tag = tags.edit_tag_wiki(staff, questions.get_tag("wifi"), "<script>alert(1)</script> Wi-Fi <b>only</b>")
    assert "<script" not in tag.wiki_html and "<b>" not in tag.wiki_html


def test_members_may_not_describe_tags(make_user, staff) -> None:
    _ask(staff, "wifi")
    member = set_reputation(make_user(), 5000)
    with pytest.raises(PermissionDenied):
        tags.edit_tag_wiki(member, questions.get_tag("wifi"), "Anything")


def test_a_description_has_a_limit_and_an_unchanged_one_is_refused(app, staff) -> None:
    _ask(staff, "wifi")
    tag = questions.get_tag("wifi")
    app.config["TAG_WIKI_MAX_LENGTH"] = 20
    with pytest.raises(FieldError, match=r"under 20 characters \(this is 21\)") as err:
        tags.edit_tag_wiki(staff, tag, "x" * 21)
    assert err.value.field == "wiki"
    tags.edit_tag_wiki(staff, tag, "Wi-Fi")
    with pytest.raises(InvalidState, match="Nothing changed"):
        tags.edit_tag_wiki(staff, tag, "  Wi-Fi \r\n")
