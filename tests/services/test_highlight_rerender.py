"""Posts stored before code highlighting get it from `flask forum rerender` (RENDER_VERSION 3)."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from forum.extensions import db
from forum.markup import RENDER_VERSION
from forum.services import maintenance

BODY = "Here is the script I run:\n\n```python\nimport time\ntime.sleep(2)\n```\n"


def test_rerender_highlights_code_stored_by_the_previous_renderer(make_question: Callable[..., Any],
                                                                  make_answer: Callable[..., Any]) -> None:
    question = make_question(title="Pairing script sleeps forever", body=BODY)
    answer = make_answer(question, body="Same here:\n\n```bash\necho hi\n```\n")
    old = '<p>Here is the script I run:</p>\n<pre><code class="language-python">import time\ntime.sleep(2)\n</code></pre>'
    question.body_html, question.render_version = old, 2
    answer.body_html, answer.render_version = "<p>stale</p>", 2
    db.session.commit()
    counts = maintenance.rerender()
    db.session.commit()
    assert counts["questions"] == 1 and counts["answers"] == 1
    db.session.refresh(question)
    db.session.refresh(answer)
    assert RENDER_VERSION == 3 and question.render_version == answer.render_version == 3
    assert '<span class="kn">import </span>' in question.body_html
    assert '<span class="nb">echo </span>hi' in answer.body_html
    assert maintenance.rerender() == {"questions": 0, "answers": 0, "comments": 0, "articles": 0, "bios": 0,
                                    "case messages": 0}
