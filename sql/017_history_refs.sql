-- 017_history_refs: history's references checked once per statement.
--
-- A 10,000-record transfer of new records writes 30,000 history rows and
-- 10,000 PERSONAL values. Their three foreign keys made 70,000 row-level
-- checks, each a query that locks the row it finds (FOR KEY SHARE): 255 ms
-- of the database's 1.41 s (auto_explain, tests/bench/sync_profile.sh; the
-- same statement took 505 ms with them and 250 ms without).
--
-- The same guarantees, set-based:
--   - after each statement that writes history rows, every record and
--     principal they name exists, and every PERSONAL value belongs to a
--     history row (a foreign-key violation otherwise, SQLSTATE 23503);
--   - deleting or truncating records deletes their history, and deleting or
--     truncating history its PERSONAL values, as ON DELETE CASCADE did.
-- What the row locks guarded against, a referenced row deleted by a
-- concurrent transaction, cannot happen: nothing deletes principals that
-- have transfers (transfer's foreign key stays), and records are withdrawn,
-- never deleted, by the registry; a deletion by hand cascades as before.

ALTER TABLE registry.history DROP CONSTRAINT history_record_id_fkey,
	DROP CONSTRAINT history_principal_id_fkey;
ALTER TABLE registry.history_personal DROP CONSTRAINT history_personal_history_id_fkey;

-- The statement's new rows name existing rows. Arguments: the column, the
-- table it refers to, that table's key. Transition tables have no
-- statistics: probe the key's index, never hash the whole table.
CREATE FUNCTION registry.refs_exist() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = registry, public, pg_temp
SET enable_hashjoin = off SET enable_mergejoin = off AS $$
DECLARE
	v_bad text;
BEGIN
	EXECUTE format('SELECT n.v::text FROM (SELECT DISTINCT %1$I AS v FROM new_rows '
		'WHERE %1$I IS NOT NULL) n WHERE NOT EXISTS (SELECT 1 FROM registry.%2$I r '
		'WHERE r.%3$I = n.v) LIMIT 1', TG_ARGV[0], TG_ARGV[1], TG_ARGV[2])
	INTO v_bad;
	IF v_bad IS NOT NULL THEN
		RAISE EXCEPTION '%.% names % %, which does not exist', TG_TABLE_NAME, TG_ARGV[0],
			TG_ARGV[1], v_bad
			USING ERRCODE = 'foreign_key_violation', TABLE = TG_TABLE_NAME;
	END IF;
	RETURN NULL;
END
$$;

-- Deleted or truncated rows take the rows that refer to them along.
-- Arguments: the referring table, its column, this table's key.
CREATE FUNCTION registry.refs_cascade() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = registry, public, pg_temp AS $$
BEGIN
	IF TG_OP = 'TRUNCATE' THEN
		EXECUTE format('TRUNCATE registry.%I', TG_ARGV[0]);
	ELSE
		EXECUTE format('DELETE FROM registry.%1$I x USING old_rows o WHERE x.%2$I = o.%3$I',
			TG_ARGV[0], TG_ARGV[1], TG_ARGV[2]);
	END IF;
	RETURN NULL;
END
$$;

CREATE TRIGGER history_record_insert AFTER INSERT ON registry.history
	REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT
	EXECUTE FUNCTION registry.refs_exist('record_id', 'record', 'record_id');
CREATE TRIGGER history_record_update AFTER UPDATE ON registry.history
	REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT
	EXECUTE FUNCTION registry.refs_exist('record_id', 'record', 'record_id');
CREATE TRIGGER history_principal_insert AFTER INSERT ON registry.history
	REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT
	EXECUTE FUNCTION registry.refs_exist('principal_id', 'principal', 'principal_id');
CREATE TRIGGER history_principal_update AFTER UPDATE ON registry.history
	REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT
	EXECUTE FUNCTION registry.refs_exist('principal_id', 'principal', 'principal_id');
CREATE TRIGGER history_personal_history_insert AFTER INSERT ON registry.history_personal
	REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT
	EXECUTE FUNCTION registry.refs_exist('history_id', 'history', 'history_id');
CREATE TRIGGER history_personal_history_update AFTER UPDATE ON registry.history_personal
	REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT
	EXECUTE FUNCTION registry.refs_exist('history_id', 'history', 'history_id');

-- a truncated history empties history_personal by its own trigger
CREATE TRIGGER record_history_delete AFTER DELETE ON registry.record
	REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT
	EXECUTE FUNCTION registry.refs_cascade('history', 'record_id', 'record_id');
CREATE TRIGGER record_history_truncate AFTER TRUNCATE ON registry.record
	FOR EACH STATEMENT EXECUTE FUNCTION registry.refs_cascade('history');
CREATE TRIGGER history_personal_delete AFTER DELETE ON registry.history
	REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT
	EXECUTE FUNCTION registry.refs_cascade('history_personal', 'history_id', 'history_id');
CREATE TRIGGER history_personal_truncate AFTER TRUNCATE ON registry.history
	FOR EACH STATEMENT EXECUTE FUNCTION registry.refs_cascade('history_personal');

REVOKE ALL ON FUNCTION registry.refs_exist() FROM PUBLIC;
REVOKE ALL ON FUNCTION registry.refs_cascade() FROM PUBLIC;
