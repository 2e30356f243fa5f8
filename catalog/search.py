"""Full-text product search on PostgreSQL.

`catalog_product.search_vector` holds a weighted document: name (A) > tags (B) > description (C).
Triggers keep it current whatever writes the rows (services, admin, CSV import, bulk inserts), and
a GIN index makes the match fast. They are (re)installed after every `migrate`, including the
test database that pytest builds without migrations; every statement is idempotent.
"""

from django.db import connection

SEARCH_CONFIG = "english"

INSTALL_SQL = f"""
CREATE OR REPLACE FUNCTION catalog_product_document(p_id bigint, p_name text, p_description text)
RETURNS tsvector LANGUAGE sql STABLE AS $$
    SELECT setweight(to_tsvector('{SEARCH_CONFIG}', coalesce(p_name, '')), 'A')
        || setweight(to_tsvector('{SEARCH_CONFIG}', coalesce((
               SELECT string_agg(t.name, ' ')
               FROM catalog_product_tags pt JOIN catalog_tag t ON t.id = pt.tag_id
               WHERE pt.product_id = p_id), '')), 'B')
        || setweight(to_tsvector('{SEARCH_CONFIG}', coalesce(p_description, '')), 'C')
$$;

CREATE OR REPLACE FUNCTION catalog_product_search_trigger() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.search_vector := catalog_product_document(NEW.id, NEW.name, NEW.description);
    RETURN NEW;
END $$;

CREATE OR REPLACE FUNCTION catalog_product_tags_trigger() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    changed bigint := CASE WHEN TG_OP = 'DELETE' THEN OLD.product_id ELSE NEW.product_id END;
BEGIN
    UPDATE catalog_product
    SET search_vector = catalog_product_document(id, name, description)
    WHERE id = changed;
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION catalog_tag_rename_trigger() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE catalog_product
    SET search_vector = catalog_product_document(id, name, description)
    WHERE id IN (SELECT product_id FROM catalog_product_tags WHERE tag_id = NEW.id);
    RETURN NULL;
END $$;

DROP TRIGGER IF EXISTS catalog_product_search ON catalog_product;
CREATE TRIGGER catalog_product_search
    BEFORE INSERT OR UPDATE OF name, description ON catalog_product
    FOR EACH ROW EXECUTE FUNCTION catalog_product_search_trigger();

DROP TRIGGER IF EXISTS catalog_product_tags_search ON catalog_product_tags;
CREATE TRIGGER catalog_product_tags_search
    AFTER INSERT OR UPDATE OR DELETE ON catalog_product_tags
    FOR EACH ROW EXECUTE FUNCTION catalog_product_tags_trigger();

DROP TRIGGER IF EXISTS catalog_tag_rename_search ON catalog_tag;
CREATE TRIGGER catalog_tag_rename_search
    AFTER UPDATE OF name ON catalog_tag
    FOR EACH ROW EXECUTE FUNCTION catalog_tag_rename_trigger();

CREATE INDEX IF NOT EXISTS catalog_product_search_gin
    ON catalog_product USING gin (search_vector);
"""


def install_search(using: str = "default", **kwargs) -> None:
    """Install or refresh the search triggers and index (a `post_migrate` receiver)."""
    from django.db import connections

    conn = connections[using]
    if conn.vendor != "postgresql":
        return
    tables = conn.introspection.table_names()
    if "catalog_product" not in tables or "catalog_product_tags" not in tables:
        return
    with conn.cursor() as cursor:
        cursor.execute(INSTALL_SQL)


def is_available() -> bool:
    return connection.vendor == "postgresql"
