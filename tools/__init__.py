"""Developer tools run from a checkout (`make bench`, `make bench-search`, `make eval`); not part of the installed package."""
