"""One search service for knowledge-base articles, messages and contacts (FTS5 / PostgreSQL + trigrams)."""
