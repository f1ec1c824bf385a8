"""Behaviour of SearchIndex.search: operators, ranking, sorting, paging, facets."""

from __future__ import annotations

from search.index import MAX_PAGE, MAX_PER_PAGE, SearchIndex


def ids(index: SearchIndex, query: str, **kwargs: object) -> list[int]:
    return [hit.id for hit in index.search(query, per_page=100, **kwargs).hits]  # type: ignore[arg-type]


def test_plain_words_match_title_body_and_answers(index: SearchIndex) -> None:
    assert set(ids(index, "printer")) == {1, 2, 10}
    assert ids(index, "spooler") == [1]  # only in an answer


def test_all_words_are_required_when_some_post_has_them_all(index: SearchIndex) -> None:
    assert ids(index, "printer driver macos") == [10]


def test_falls_back_to_partial_matches_when_no_post_has_every_word(index: SearchIndex) -> None:
    results = index.search("printer invoices")
    assert results.relaxed
    assert {h.id for h in results.hits} == {1, 2, 4, 10}


def test_stemming_matches_other_word_forms(index: SearchIndex) -> None:
    assert 7 in ids(index, "configure")
    assert 1 in ids(index, "printers")


def test_accents_are_folded_both_ways(index: SearchIndex) -> None:
    assert ids(index, "cafe") == [9]
    assert ids(index, "résumé") == [9]
    assert ids(index, "NAIVE") == [9]


def test_title_matches_rank_above_body_matches(make_doc, empty_index: SearchIndex) -> None:
    empty_index.upsert([
        make_doc(1, "Question about setup", "the spooler crashed"),
        make_doc(2, "Spooler crashed", "question about setup"),
    ])
    assert ids(empty_index, "spooler") == [2, 1]


def test_accepted_answer_outweighs_other_answers(make_doc, empty_index: SearchIndex) -> None:
    empty_index.upsert([
        make_doc(1, "Question one", answers="try the spooler restart"),
        make_doc(2, "Question two", answers="try the spooler restart",
                 accepted="try the spooler restart"),
    ])
    assert ids(empty_index, "spooler") == [2, 1]


def test_exact_phrase_requires_adjacent_words(index: SearchIndex) -> None:
    assert ids(index, '"sync conflict"') == [5]
    assert ids(index, '"conflict sync"') == []


def test_phrase_skips_stop_words_like_the_index(index: SearchIndex) -> None:
    assert ids(index, '"reinstall the printer driver"') == [1]


def test_exclusion_drops_documents_with_the_word(index: SearchIndex) -> None:
    assert set(ids(index, "printer -macos")) == {1, 2}


def test_excluded_phrase_drops_only_documents_with_the_phrase(index: SearchIndex) -> None:
    assert set(ids(index, 'printer -"blank pages"')) == {1, 10}


def test_or_accepts_either_word(index: SearchIndex) -> None:
    assert set(ids(index, "invoices OR vpn")) == {4, 7}


def test_tag_filter_requires_every_tag(index: SearchIndex) -> None:
    assert set(ids(index, "tag:printing")) == {1, 2, 10}
    assert ids(index, "tag:printing tag:windows") == [1]
    assert set(ids(index, "tag:printing -tag:macos")) == {1, 2}


def test_is_solved_and_is_unsolved_filter_questions(index: SearchIndex) -> None:
    assert set(ids(index, "is:solved")) == {1, 4}
    assert 6 not in ids(index, "is:unsolved")  # articles are never "unsolved"
    assert set(ids(index, "printer is:unsolved")) == {2, 10}


def test_is_unanswered_lists_questions_without_answers(index: SearchIndex) -> None:
    assert set(ids(index, "is:unanswered")) == {2, 5, 9}


def test_is_article_and_is_question_filter_by_kind(index: SearchIndex) -> None:
    assert ids(index, "password is:article") == [6]
    assert ids(index, "password is:question") == [3]


def test_user_filter_matches_author_case_insensitively(index: SearchIndex) -> None:
    assert set(ids(index, "user:Alice")) == {1, 4, 10}
    assert set(ids(index, "printer -user:alice")) == {2}


def test_keyword_arguments_add_filters(index: SearchIndex) -> None:
    assert ids(index, "password", kinds=["article"]) == [6]
    assert ids(index, "printer", tags=["macos"]) == [10]
    assert ids(index, "printer", solved=True) == [1]
    assert ids(index, "password is:article", kinds=["question"]) == []


def test_sort_by_newest_and_by_votes(index: SearchIndex) -> None:
    assert ids(index, "printer", sort="newest") == [10, 2, 1]
    assert ids(index, "printer", sort="votes") == [1, 10, 2]
    assert ids(index, "printer", sort="nonsense") == ids(index, "printer")


def test_filters_alone_list_newest_first(index: SearchIndex) -> None:
    assert ids(index, "tag:sync") == [8, 5]


def test_empty_query_returns_nothing(index: SearchIndex) -> None:
    results = index.search("   ")
    assert results.total == 0 and results.hits == [] and results.pages == 0


def test_pagination_splits_results_and_clamps_bounds(index: SearchIndex) -> None:
    results = index.search("printer OR sync OR password", per_page=2, page=2)
    assert results.per_page == 2 and results.page == 2 and len(results.hits) == 2
    assert results.pages == -(-results.total // 2)
    last = index.search("printer OR sync OR password", per_page=2, page=10_000)
    assert last.page == last.pages
    assert index.search("printer", per_page=10_000).per_page == MAX_PER_PAGE
    assert index.search("printer", per_page=0).per_page == 1
    assert index.search("printer", page=-5).page == 1
    assert index.search("printer", page="x", per_page="y").page == 1  # type: ignore[arg-type]
    assert MAX_PAGE >= 1


def test_pages_concatenate_to_the_full_ranking(index: SearchIndex) -> None:
    query = "printer OR sync OR password OR vpn"
    full = ids(index, query)
    paged = [h.id for p in range(1, 5) for h in index.search(query, per_page=3, page=p).hits]
    assert paged[: len(full)] == full


def test_tag_counts_cover_the_whole_result_set(index: SearchIndex) -> None:
    results = index.search("printer", per_page=1)
    counts = dict(results.tag_counts)
    assert counts == {"printing": 3, "macos": 1, "windows": 1}
    assert results.tag_counts[0] == ("printing", 3)


def test_suggestion_corrects_a_misspelt_word(index: SearchIndex) -> None:
    results = index.search("pinter tag:printing")
    assert results.suggestion == "printer tag:printing"
    assert index.search("printer").suggestion is None


def test_numbers_and_codes_are_not_corrected(index: SearchIndex) -> None:
    assert index.search("0x80070005").suggestion is None


def test_hits_carry_kind_id_key_and_score(index: SearchIndex) -> None:
    hit = index.search("vpn").hits[0]
    assert (hit.kind, hit.id, hit.key) == ("question", 7, "question:7")
    assert hit.score > 0


def test_parsed_query_is_returned_for_the_ui(index: SearchIndex) -> None:
    parsed = index.search('tag:vpn "client" is:question').parsed
    assert parsed.tags == ("vpn",) and parsed.kinds == ("question",)


def test_words_no_post_holds_are_dropped_before_relaxing_to_any_word(index: SearchIndex) -> None:
    results = index.search("printer blank zzqxv")
    assert results.relaxed and [h.id for h in results.hits] == [2]
    assert index.search("zzqxv qqzzy").total == 0
