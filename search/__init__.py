"""Full-text search for the forum: Whoosh and the standard library only, no Flask.

    from search import Document, SearchIndex

    index = SearchIndex.open("instance/search")          # or None for in-memory
    index.upsert([Document(kind="question", id=1, title=..., body=..., created=...)])
    results = index.search('printer "error 0x80070005" tag:windows is:solved')
    similar = index.similar("Printer offline after update", limit=5)

See `search.query` for the query language, `search.schema` for what is indexed and
how it is scored; the relevance and speed checks live outside the package, in `tools/search/`.
"""

from search.document import Document
from search.errors import IndexBusy, SearchError
from search.index import MAX_PAGE, MAX_PER_PAGE, MAX_SIMILAR, SORTS, SearchIndex
from search.query import ParsedQuery, parse_query
from search.results import Hit, SearchResults

__all__ = [
    "Document",
    "Hit",
    "IndexBusy",
    "MAX_PAGE",
    "MAX_PER_PAGE",
    "MAX_SIMILAR",
    "ParsedQuery",
    "SORTS",
    "SearchError",
    "SearchIndex",
    "SearchResults",
    "parse_query",
]
