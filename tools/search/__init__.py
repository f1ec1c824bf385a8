"""Checks on the `search` package: relevance (`tools.search.eval`), speed (`tools.search.bench`) and the
synthetic posts both use (`tools.search.synthetic`)."""
