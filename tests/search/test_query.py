"""The query-language tokenizer (search.query.parse_query)."""

from __future__ import annotations

from search.query import MAX_FILTERS, MAX_QUERY_CHARS, MAX_TERMS, ParsedQuery, Term, parse_query


def test_plain_words_become_required_clauses() -> None:
    parsed = parse_query("printer  driver")
    assert parsed.clauses == ((Term("printer"),), (Term("driver"),))
    assert parsed.words() == ["printer", "driver"] and parsed.has_text


def test_quotes_make_a_phrase_and_an_unterminated_quote_runs_to_the_end() -> None:
    assert parse_query('"sync conflict" now').clauses[0] == (Term("sync conflict", phrase=True),)
    assert parse_query('a "open quote').clauses[1] == (Term("open quote", phrase=True),)
    assert parse_query("\u201csmart quotes\u201d").clauses[0][0].phrase


def test_dash_excludes_words_and_phrases() -> None:
    parsed = parse_query('printer -macos -"blank pages"')
    assert parsed.excluded == (Term("macos"), Term("blank pages", phrase=True))
    assert parse_query("wi-fi").clauses == ((Term("wi-fi"),),)  # a dash inside a word


def test_or_joins_neighbours_into_one_clause() -> None:
    assert parse_query("a OR b c").clauses == ((Term("a"), Term("b")), (Term("c"),))
    assert parse_query("OR a OR").clauses == ((Term("a"),),)
    assert parse_query("a or b").clauses == ((Term("a"),), (Term("or"),), (Term("b"),))


def test_filters_are_recognised_case_insensitively() -> None:
    parsed = parse_query('TAG:Windows tag:"mac os" is:Solved USER:Bob is:article')
    assert parsed.tags == ("windows", "mac-os") and parsed.users == ("bob",)
    assert parsed.solved is True and parsed.kinds == ("article",) and not parsed.has_text


def test_negated_filters_exclude() -> None:
    parsed = parse_query("-tag:x -user:y -is:solved")
    assert parsed.excluded_tags == ("x",) and parsed.excluded_users == ("y",)
    assert parsed.solved is False


def test_unknown_operators_are_plain_words_or_ignored() -> None:
    assert parse_query("foo:bar").clauses == ((Term("foo:bar"),),)
    parsed = parse_query("is:banana tag: x")
    assert parsed.ignored == ("is:banana", "tag:") and parsed.clauses == ((Term("x"),),)


def test_is_accepts_extra_kinds_when_told() -> None:
    assert parse_query("is:comment").kinds == ()
    assert parse_query("is:comment", kinds={"comment"}).kinds == ("comment",)


def test_parentheses_are_separators() -> None:
    assert parse_query("(printer) [driver]").words() == ["printer", "driver"]


def test_length_and_term_count_are_capped() -> None:
    assert len(parse_query("x" * 10_000).raw) <= MAX_QUERY_CHARS
    parsed = parse_query(" ".join(f"w{i}" for i in range(100)))
    assert len(parsed.clauses) == MAX_TERMS and len(parsed.ignored) == 100 - MAX_TERMS
    assert len(parse_query(" ".join(f"tag:t{i}" for i in range(50))).tags) == MAX_FILTERS


def test_render_round_trips_and_replaces_words() -> None:
    text = 'printer OR scanner "error code" -macos tag:windows user:bob is:unsolved'
    parsed = parse_query(text)
    assert parse_query(parsed.render()) == parse_query(parsed.render())
    assert parse_query(parsed.render()).clauses == parsed.clauses
    assert parsed.render({"printer": "plotter"}).startswith("plotter OR scanner")


def test_non_strings_and_control_characters_are_harmless() -> None:
    assert parse_query(None) == ParsedQuery()  # type: ignore[arg-type]
    assert parse_query(b"bytes") == ParsedQuery()  # type: ignore[arg-type]
    assert parse_query("a\x00b\x1b").words() == ["a", "b"]


def test_empty_query_is_empty() -> None:
    assert parse_query("").is_empty and parse_query(" - -- ").is_empty
    assert not parse_query("tag:x").is_empty
