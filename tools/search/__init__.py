"""Checks on the `search` package (its relevance is `search.eval`, inside the package): speed (`tools.search.bench`) and the
synthetic posts both use (`tools.search.synthetic`)."""
