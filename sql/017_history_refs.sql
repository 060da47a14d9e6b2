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

-- The statement's new history rows name existing records and principals.
-- Transition tables have no statistics: probe the indexes, never hash the
-- whole registry.
CREATE FUNCTION registry.history_refs() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = registry, public, pg_temp
SET enable_hashjoin = off SET enable_mergejoin = off AS $$
DECLARE
	v_bad text;
BEGIN
	SELECT n.record_id::text INTO v_bad FROM (SELECT DISTINCT record_id FROM new_rows) n
	WHERE NOT EXISTS (SELECT 1 FROM registry.record r WHERE r.record_id = n.record_id)
	LIMIT 1;
	IF FOUND THEN
		RAISE EXCEPTION 'history names record %, which does not exist', v_bad
			USING ERRCODE = 'foreign_key_violation', TABLE = 'history';
	END IF;
	SELECT n.principal_id::text INTO v_bad
	FROM (SELECT DISTINCT principal_id FROM new_rows WHERE principal_id IS NOT NULL) n
	WHERE NOT EXISTS (SELECT 1 FROM registry.principal p WHERE p.principal_id = n.principal_id)
	LIMIT 1;
	IF FOUND THEN
		RAISE EXCEPTION 'history names principal %, which does not exist', v_bad
			USING ERRCODE = 'foreign_key_violation', TABLE = 'history';
	END IF;
	RETURN NULL;
END
$$;
CREATE TRIGGER history_refs_insert AFTER INSERT ON registry.history
	REFERENCING NEW TABLE AS new_rows
	FOR EACH STATEMENT EXECUTE FUNCTION registry.history_refs();
CREATE TRIGGER history_refs_update AFTER UPDATE ON registry.history
	REFERENCING NEW TABLE AS new_rows
	FOR EACH STATEMENT EXECUTE FUNCTION registry.history_refs();

-- The statement's new PERSONAL values belong to history rows.
CREATE FUNCTION registry.history_personal_refs() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = registry, public, pg_temp
SET enable_hashjoin = off SET enable_mergejoin = off AS $$
DECLARE
	v_bad text;
BEGIN
	SELECT n.history_id::text INTO v_bad FROM new_rows n
	WHERE NOT EXISTS (SELECT 1 FROM registry.history h WHERE h.history_id = n.history_id)
	LIMIT 1;
	IF FOUND THEN
		RAISE EXCEPTION 'a PERSONAL value names history row %, which does not exist', v_bad
			USING ERRCODE = 'foreign_key_violation', TABLE = 'history_personal';
	END IF;
	RETURN NULL;
END
$$;
CREATE TRIGGER history_personal_refs_insert AFTER INSERT ON registry.history_personal
	REFERENCING NEW TABLE AS new_rows
	FOR EACH STATEMENT EXECUTE FUNCTION registry.history_personal_refs();
CREATE TRIGGER history_personal_refs_update AFTER UPDATE ON registry.history_personal
	REFERENCING NEW TABLE AS new_rows
	FOR EACH STATEMENT EXECUTE FUNCTION registry.history_personal_refs();

-- Cascades: a deleted record's history, a deleted history row's PERSONAL value.
CREATE FUNCTION registry.record_drop_history() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = registry, public, pg_temp AS $$
BEGIN
	IF TG_OP = 'TRUNCATE' THEN
		TRUNCATE registry.history; -- whose own trigger empties history_personal
	ELSE
		DELETE FROM registry.history h USING old_rows o WHERE h.record_id = o.record_id;
	END IF;
	RETURN NULL;
END
$$;
CREATE TRIGGER record_drop_history AFTER DELETE ON registry.record
	REFERENCING OLD TABLE AS old_rows
	FOR EACH STATEMENT EXECUTE FUNCTION registry.record_drop_history();
CREATE TRIGGER record_truncate_history AFTER TRUNCATE ON registry.record
	FOR EACH STATEMENT EXECUTE FUNCTION registry.record_drop_history();

CREATE FUNCTION registry.history_drop_personal() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = registry, public, pg_temp AS $$
BEGIN
	IF TG_OP = 'TRUNCATE' THEN
		TRUNCATE registry.history_personal;
	ELSE
		DELETE FROM registry.history_personal p USING old_rows o
		WHERE p.history_id = o.history_id;
	END IF;
	RETURN NULL;
END
$$;
CREATE TRIGGER history_drop_personal AFTER DELETE ON registry.history
	REFERENCING OLD TABLE AS old_rows
	FOR EACH STATEMENT EXECUTE FUNCTION registry.history_drop_personal();
CREATE TRIGGER history_truncate_personal AFTER TRUNCATE ON registry.history
	FOR EACH STATEMENT EXECUTE FUNCTION registry.history_drop_personal();

REVOKE ALL ON FUNCTION registry.history_refs() FROM PUBLIC;
REVOKE ALL ON FUNCTION registry.history_personal_refs() FROM PUBLIC;
REVOKE ALL ON FUNCTION registry.record_drop_history() FROM PUBLIC;
REVOKE ALL ON FUNCTION registry.history_drop_personal() FROM PUBLIC;
