"""Developer tools run from a checkout (`make bench`, `make eval`); not part of the installed package."""
