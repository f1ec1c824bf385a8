"""schemathesis against a running server: every operation of /api/v1/openapi.json, fuzzed.

A real gunicorn serves the forum with a few questions, answers, comments and a published
article; schemathesis reads the published OpenAPI document and sends each operation requests
it generates from the schema (valid input, and input the schema forbids), signed with a staff
member's token (read, write and staff scopes), then with a member's (read and write; valid input only). Each
response must not be a 5xx, must have a documented status and content type, a body that
matches the documented schema, and the documented headers. Any failing check fails the test,
naming the operation and the request to replay.

Hypothesis is derandomized (a fixed seed) and the examples per operation are bounded, so the
run is repeatable and takes about a minute on two cores. On PostgreSQL only: its types are
the stricter (a 64-bit id or a NUL character is a database error there, not on SQLite), and
it is production's database.
"""
from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from forum.extensions import db
from forum.services import api_tokens, articles, comments
from tests.support import IN_CI
from tests.support_http import gunicorn

if IN_CI:
    import schemathesis  # CI installs the dev extras: a missing schemathesis must fail there
else:
    schemathesis = pytest.importorskip("schemathesis")

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

#: Examples per operation and generation mode; FORUM_API_FUZZ_EXAMPLES raises it for a deeper run.
EXAMPLES = int(os.environ.get("FORUM_API_FUZZ_EXAMPLES", "20"))


def _token(user: Any, scopes: list[str]) -> str:
    _, secret = api_tokens.create_token(user, f"fuzz {' '.join(scopes)}", scopes, 1)
    db.session.commit()
    return secret


def _seed(make_user: Callable[..., Any], make_question: Callable[..., Any],
          make_answer: Callable[..., Any]) -> tuple[str, str]:
    """A small forum like the demo's; returns the staff token and the member token."""
    staff = make_user("agent_ana", role="agent")
    maria, tom = make_user("maria"), make_user("tom")
    for n, (title, tags) in enumerate([("Hub blinks orange after the firmware update", "hub firmware"),
                                       ("Door sensor battery drains in a week", "sensors battery"),
                                       ("How do I share the app with my family?", "app sharing")]):
        question = make_question(author=maria if n % 2 == 0 else tom, title=title, tags=tags)
        answer = make_answer(question, author=tom if n % 2 == 0 else maria)
        comments.add_comment(staff, question, "Which firmware version does the app show?")
        comments.add_comment(maria, answer, "That worked for me, thank you.")
    article = articles.create_article(staff, articles.ArticleInput(
        "Resetting the hub", "Hold the reset button for ten seconds until the light blinks white.", "hub"))
    articles.set_state(staff, article, "published")
    db.session.commit()
    return _token(staff, ["read", "write", "staff"]), _token(maria, ["read", "write"])


def _fuzz(schema: Any, url: str, secret: str, checks: list[Any], modes: tuple[Any, ...]) -> list[str]:
    """Run every operation of ``schema`` against ``url``; returns the failures, one text each."""
    from hypothesis import HealthCheck, given, settings
    from schemathesis.checks import content_type_conformance, not_a_server_error
    from schemathesis.core.parameters import ParameterLocation

    failures: list[str] = []
    headers = {"Authorization": f"Bearer {secret}"}
    for result in schema.get_all_operations():
        operation = result.ok()
        for mode in modes:
            @settings(max_examples=EXAMPLES, derandomize=True, database=None, deadline=None, print_blob=False,
                      suppress_health_check=list(HealthCheck))
            @given(case=operation.as_strategy(generation_mode=mode))
            def run(case: Any) -> None:
                # A path made invalid (a word for an id) is no longer this operation's URL: the router
                # answers it (404, or 405 where it is another operation's path), so only "no 500"
                # and the JSON error shape are this operation's to keep.
                misrouted = case.meta is not None and case.meta.is_negative_at(ParameterLocation.PATH)
                case.call_and_validate(base_url=url, headers=headers,
                                       checks=[not_a_server_error, content_type_conformance] if misrouted else checks)

            try:
                run()
            except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001 - each is reported, then the test fails
                failures.append(f"{operation.label} ({mode.value}): {_short(exc)}")
    return failures


def _short(exc: BaseException) -> str:
    """The failed checks and the request to replay, without the kilobytes of a fuzzed body."""
    found = exc.exceptions if isinstance(exc, BaseExceptionGroup) else (exc,)
    titles = "; ".join(f"{type(e).__name__}: {str(e)[:300]}" for e in found)
    replay = next((line.strip()[:600] for line in str(exc).splitlines() if line.strip().startswith("curl ")), "")
    return f"{titles}\n    {replay}"


def test_every_operation_answers_what_the_openapi_document_says(app: Flask, make_user: Callable[..., Any],
                                                                make_question: Callable[..., Any],
                                                                make_answer: Callable[..., Any],
                                                                tmp_path: Path) -> None:
    from schemathesis.checks import (
        content_type_conformance,
        not_a_server_error,
        response_headers_conformance,
        response_schema_conformance,
        status_code_conformance,
    )

    staff_secret, member_secret = _seed(make_user, make_question, make_answer)
    db.session.remove()
    env = {"FORUM_ENV": "testing", "FORUM_DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
           "FORUM_INDEX_DIR": str(tmp_path / "index"), "FORUM_INSTANCE_PATH": str(tmp_path / "instance"),
           # gunicorn itself answers a request line over 4 KB with an HTML 414 before the app sees it;
           # the fuzzer's longest queries are the app's to answer (422 for a too-long value).
           "GUNICORN_CMD_ARGS": "--limit-request-line 0"}
    log = tmp_path / "gunicorn.log"
    checks = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
              response_headers_conformance]
    with gunicorn(env, workers=2, log=log) as url:
        schema = schemathesis.openapi.from_url(f"{url}/api/v1/openapi.json")
        assert len(list(schema.get_all_operations())) >= 3
        both = (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE)
        # The member's refusals (403 where the page refuses) with valid input; bad input once is enough.
        failures = (_fuzz(schema, url, staff_secret, checks, both)
                    + _fuzz(schema, url, member_secret, checks, (schemathesis.GenerationMode.POSITIVE,)))
    if failures:
        server_log = log.read_text(errors="replace")[-4000:]
        pytest.fail("\n\n".join(failures) + f"\n\ngunicorn's log (end):\n{server_log}", pytrace=False)
