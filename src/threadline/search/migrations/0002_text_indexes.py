"""Full-text and trigram indexes that the ORM cannot describe, per database.

SQLite: two external-content FTS5 tables over search_document kept in step by triggers —
``search_fts`` (segmented words, unicode61) and ``search_trgm`` (folded text, trigram tokenizer).
PostgreSQL: a generated ``tsv`` column built from the already segmented words with
``array_to_tsvector`` (no parser runs over Thai) and a pg_trgm GIN index on the folded text.
"""

from django.db import migrations

SQLITE_UP = [
    """CREATE VIRTUAL TABLE search_fts USING fts5(
        title_words, body_words, content='search_document', content_rowid='id',
        tokenize='unicode61 remove_diacritics 0')""",
    """CREATE VIRTUAL TABLE search_trgm USING fts5(
        folded, content='search_document', content_rowid='id', tokenize='trigram')""",
    """CREATE TRIGGER search_document_ai AFTER INSERT ON search_document BEGIN
        INSERT INTO search_fts(rowid, title_words, body_words) VALUES (new.id, new.title_words, new.body_words);
        INSERT INTO search_trgm(rowid, folded) VALUES (new.id, new.folded);
    END""",
    """CREATE TRIGGER search_document_ad AFTER DELETE ON search_document BEGIN
        INSERT INTO search_fts(search_fts, rowid, title_words, body_words)
            VALUES ('delete', old.id, old.title_words, old.body_words);
        INSERT INTO search_trgm(search_trgm, rowid, folded) VALUES ('delete', old.id, old.folded);
    END""",
    """CREATE TRIGGER search_document_au AFTER UPDATE ON search_document BEGIN
        INSERT INTO search_fts(search_fts, rowid, title_words, body_words)
            VALUES ('delete', old.id, old.title_words, old.body_words);
        INSERT INTO search_trgm(search_trgm, rowid, folded) VALUES ('delete', old.id, old.folded);
        INSERT INTO search_fts(rowid, title_words, body_words) VALUES (new.id, new.title_words, new.body_words);
        INSERT INTO search_trgm(rowid, folded) VALUES (new.id, new.folded);
    END""",
]
SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS search_document_au",
    "DROP TRIGGER IF EXISTS search_document_ad",
    "DROP TRIGGER IF EXISTS search_document_ai",
    "DROP TABLE IF EXISTS search_trgm",
    "DROP TABLE IF EXISTS search_fts",
]
POSTGRES_UP = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    """ALTER TABLE search_document ADD COLUMN tsv tsvector GENERATED ALWAYS AS (
        setweight(array_to_tsvector(string_to_array(title_words, ' ')), 'A')
        || setweight(array_to_tsvector(string_to_array(body_words, ' ')), 'B')) STORED""",
    "CREATE INDEX search_document_tsv ON search_document USING gin (tsv)",
    "CREATE INDEX search_document_trgm ON search_document USING gin (folded gin_trgm_ops)",
]
POSTGRES_DOWN = [
    "DROP INDEX IF EXISTS search_document_trgm",
    "DROP INDEX IF EXISTS search_document_tsv",
    "ALTER TABLE search_document DROP COLUMN IF EXISTS tsv",
]


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        for statement in statements_by_vendor.get(schema_editor.connection.vendor, []):
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [("search", "0001_initial")]

    operations = [
        migrations.RunPython(
            _run({"sqlite": SQLITE_UP, "postgresql": POSTGRES_UP}),
            _run({"sqlite": SQLITE_DOWN, "postgresql": POSTGRES_DOWN}),
        )
    ]
