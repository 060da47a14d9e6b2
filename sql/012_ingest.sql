-- 012_ingest: a transfer's writes without per-row round trips.
--
-- Measured on a 10,000-record transfer of new records (tests/bench/sync.sh,
-- track_functions and auto_explain with nested statements): 3.4 s in
-- apply_transfer, of which 1.1 s went to record_internal's row trigger
-- (one UPDATE of registry.record per inserted row, each firing 009's
-- statement trigger) and 1.2 s to the history of created records (every
-- field of every record through jsonb_each and field_tier).
--
-- Now:
-- * The internal and personal rows are written before the record row; their
--   foreign keys are checked at commit (DEFERRABLE, deferred only inside
--   apply_transfer), so record_visibility finds the internal row and sets
--   published and pub_geom in the record's own INSERT.
-- * record_internal's insert trigger is one statement for the whole insert
--   (a transition table) instead of one UPDATE per row; it still serves
--   any other writer that inserts internal rows after their records.
-- * A created record's history documents are built by whole-document jsonb
--   operators (minus the PERSONAL keys, nulls stripped), with the same
--   content as before.
ALTER TABLE registry.record_internal
	ALTER CONSTRAINT record_internal_record_id_municipality_ags_fkey
	DEFERRABLE INITIALLY IMMEDIATE;
ALTER TABLE registry.record_personal
	ALTER CONSTRAINT record_personal_record_id_fkey DEFERRABLE INITIALLY IMMEDIATE;

CREATE FUNCTION registry.internal_visibility_rows() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = registry, public, pg_temp AS $$
BEGIN
	UPDATE registry.record r SET published = published
	FROM new_rows n WHERE r.record_id = n.record_id;
	RETURN NULL;
END
$$;
DROP TRIGGER internal_visibility_insert ON registry.record_internal;
CREATE TRIGGER internal_visibility_insert AFTER INSERT ON registry.record_internal
	REFERENCING NEW TABLE AS new_rows
	FOR EACH STATEMENT EXECUTE FUNCTION registry.internal_visibility_rows();

-- The PERSONAL fields of a sync_row (record.md; registry.field_tier).
CREATE FUNCTION registry.personal_keys() RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
	SELECT ARRAY['vacancy_reason', 'owner_name', 'owner_address', 'owner_phone',
		'owner_email', 'owner_willingness', 'attachment_rights_holders']
$$;

CREATE OR REPLACE FUNCTION registry.apply_transfer(p_principal bigint, p_ags text, p_transfer_id text,
	p_scope text, p_full_session text, p_validate_only boolean, p_request_sha256 bytea,
	p_changes jsonb)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = registry, public, pg_temp AS $$
DECLARE
	v_prev registry.transfer%ROWTYPE;
	v_errors jsonb;
	v_notes jsonb;
	v_result jsonb;
	n_created int;
	n_updated int;
	n_unchanged int;
	n_withdrawn int;
	n_omitted int := 0;
	n_stale int;
BEGIN
	-- defence in depth: the daemon checked this already
	PERFORM 1 FROM registry.principal
	WHERE principal_id = p_principal AND role = 'municipality' AND scope = p_ags
	  AND revoked_at IS NULL;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'principal % may not sync municipality %', p_principal, p_ags
			USING ERRCODE = 'VY403';
	END IF;
	-- one transfer per municipality at a time
	PERFORM pg_advisory_xact_lock(hashtext('vacancyd.sync'), p_ags::int);

	SELECT * INTO v_prev FROM registry.transfer
	WHERE municipality_ags = p_ags AND transfer_id = p_transfer_id;
	IF FOUND THEN
		IF v_prev.request_sha256 = p_request_sha256 THEN
			RETURN v_prev.response || '{"replayed": true}';
		END IF;
		RAISE EXCEPTION 'transfer % was applied before with other content', p_transfer_id
			USING ERRCODE = 'VY409';
	END IF;

	-- stage the changes, typed
	CREATE TEMP TABLE sync_stage (
		idx int PRIMARY KEY,
		is_upsert boolean NOT NULL,
		external_id text NOT NULL,
		revision numeric NOT NULL,
		new_row registry.sync_row,
		record_id uuid,
		cur_revision numeric,
		cur_withdrawn timestamptz,
		cur_row registry.sync_row,
		outcome text
	) ON COMMIT DROP;
	INSERT INTO sync_stage (idx, is_upsert, external_id, revision, new_row)
	SELECT (e.n - 1)::int, e.elem ? 'upsert',
		coalesce(e.elem->'upsert', e.elem->'withdraw')->>'external_id',
		(coalesce(e.elem->'upsert', e.elem->'withdraw')->>'revision')::numeric,
		CASE WHEN e.elem ? 'upsert' THEN
			jsonb_populate_record(NULL::registry.sync_row,
				registry.sync_doc(e.elem->'upsert')) END
	FROM jsonb_array_elements(p_changes) WITH ORDINALITY AS e(elem, n);

	-- source coordinates (ETRS89/UTM) to WGS84 where no location was given
	UPDATE sync_stage s SET
		new_row.lat = ST_Y(t.g), new_row.lon = ST_X(t.g)
	FROM (SELECT idx, ST_Transform(ST_SetSRID(ST_MakePoint((new_row).source_x,
			(new_row).source_y), (new_row).source_crs), 4326) AS g
	      FROM sync_stage
	      WHERE is_upsert AND (new_row).lat IS NULL AND (new_row).source_x IS NOT NULL) t
	WHERE s.idx = t.idx;

	-- the checks that need PostGIS: every position inside Germany's box
	SELECT jsonb_agg(jsonb_build_object('index', idx, 'external_id', external_id,
		'field', CASE WHEN (new_row).source_x IS NOT NULL THEN 'source_x' ELSE 'location' END,
		'code', 'OUTSIDE_GERMANY',
		'message', format('the position %s, %s lies outside Germany (lat 47.2-55.1, lon 5.8-15.1)',
			round((new_row).lat::numeric, 5), round((new_row).lon::numeric, 5)))
		ORDER BY idx)
	INTO v_errors
	FROM sync_stage
	WHERE is_upsert AND ((new_row).lat IS NULL OR (new_row).lon IS NULL
		OR (new_row).lat NOT BETWEEN 47.2 AND 55.1 OR (new_row).lon NOT BETWEEN 5.8 AND 15.1);
	IF v_errors IS NOT NULL THEN
		RETURN jsonb_build_object('transfer_id', p_transfer_id,
			'validate_only', p_validate_only,
			'rejected', jsonb_array_length(v_errors), 'errors', v_errors);
	END IF;

	-- what is stored now
	UPDATE sync_stage s SET record_id = c.record_id, cur_revision = c.revision,
		cur_withdrawn = c.withdrawn_at, cur_row = c.row
	FROM registry.sync_current c
	WHERE (c.row).municipality_ags = p_ags AND c.external_id = s.external_id;

	UPDATE sync_stage SET outcome = CASE
		WHEN is_upsert AND record_id IS NULL THEN 'created'
		WHEN is_upsert AND cur_withdrawn IS NULL AND to_jsonb(new_row) = to_jsonb(cur_row)
			THEN 'unchanged'
		WHEN is_upsert AND revision <= cur_revision THEN 'stale'
		WHEN is_upsert THEN 'updated'
		WHEN record_id IS NULL OR cur_withdrawn IS NOT NULL THEN 'unchanged'
		WHEN revision <= cur_revision THEN 'stale'
		ELSE 'withdrawn' END;

	SELECT count(*) FILTER (WHERE outcome = 'created'),
		count(*) FILTER (WHERE outcome = 'updated'),
		count(*) FILTER (WHERE outcome = 'unchanged'),
		count(*) FILTER (WHERE outcome = 'withdrawn'),
		count(*) FILTER (WHERE outcome = 'stale'),
		coalesce(jsonb_agg(jsonb_build_object('index', idx, 'external_id', external_id,
			'field', 'revision', 'code', 'STALE',
			'message', format('revision %s is not newer than the stored revision %s; not applied',
				revision, cur_revision)) ORDER BY idx) FILTER (WHERE outcome = 'stale'),
			'[]')
	INTO n_created, n_updated, n_unchanged, n_withdrawn, n_stale, v_notes
	FROM sync_stage;

	-- FULL: the live records named by neither this transfer nor its session
	CREATE TEMP TABLE sync_omitted (record_id uuid, revision numeric) ON COMMIT DROP;
	IF p_scope = 'FULL' THEN
		INSERT INTO sync_omitted
		SELECT i.record_id, i.revision
		FROM registry.record_internal i JOIN registry.record r USING (record_id)
		WHERE i.municipality_ags = p_ags AND r.withdrawn_at IS NULL
		  AND NOT EXISTS (SELECT 1 FROM sync_stage s WHERE s.external_id = i.external_id)
		  AND NOT EXISTS (SELECT 1 FROM registry.sync_session_item x
				  WHERE x.municipality_ags = p_ags AND x.full_session = p_full_session
				    AND x.external_id = i.external_id);
		SELECT count(*) INTO n_omitted FROM sync_omitted;
	END IF;

	v_result := jsonb_build_object('transfer_id', p_transfer_id,
		'created', n_created, 'updated', n_updated, 'unchanged', n_unchanged,
		'withdrawn', n_withdrawn + n_omitted, 'stale', n_stale, 'rejected', 0,
		'errors', v_notes, 'validate_only', p_validate_only);
	IF p_validate_only THEN
		RETURN v_result;
	END IF;

	-- ---- writes ----
	UPDATE sync_stage SET record_id = gen_random_uuid() WHERE outcome = 'created';

	-- internal and personal rows first: the record's visibility trigger reads
	-- the internal row; the foreign keys are checked at commit
	SET CONSTRAINTS registry.record_internal_record_id_municipality_ags_fkey,
		registry.record_personal_record_id_fkey DEFERRED;
	INSERT INTO registry.record_internal (record_id, municipality_ags, external_id, revision,
		publication, owner_consent, owner_consent_date, source_x, source_y, source_crs,
		location_blur_m, owner_category, internal_notes)
	SELECT record_id, p_ags, external_id, revision, (new_row).publication,
		(new_row).owner_consent, (new_row).owner_consent_date, (new_row).source_x,
		(new_row).source_y, (new_row).source_crs, (new_row).location_blur_m,
		(new_row).owner_category, (new_row).internal_notes
	FROM sync_stage WHERE outcome = 'created';
	INSERT INTO registry.record_personal (record_id, vacancy_reason, owner_name, owner_address,
		owner_phone, owner_email, owner_willingness, attachment_rights_holders)
	SELECT record_id, (new_row).vacancy_reason, (new_row).owner_name,
		(new_row).owner_address, (new_row).owner_phone, (new_row).owner_email,
		(new_row).owner_willingness, (new_row).attachment_rights_holders
	FROM sync_stage WHERE outcome = 'created';

	INSERT INTO registry.record (record_id, municipality_ags, municipality_ars, updated_at,
		last_verified_at, site_kind, usage, marketing, object_type, status, vacancy_degree,
		vacant_since, vacant_since_precision, condition, construction_year, development,
		planning_basis, bplan_ref, contamination, street, house_number, postcode, locality,
		gemarkung, flur, flurstueck, parcel_ids, geom, usable_area_m2, floor_area_m2,
		sales_area_m2, plot_area_m2, divisible_from_m2, purchase_price_eur, rent_eur_month,
		rent_eur_m2, price_on_request, title, description, location_text, marketing_contact,
		attachments)
	SELECT record_id, (new_row).municipality_ags, (new_row).municipality_ars, now(),
		(new_row).last_verified_at, (new_row).site_kind, (new_row).usage,
		(new_row).marketing, (new_row).object_type, (new_row).status,
		(new_row).vacancy_degree, (new_row).vacant_since, (new_row).vacant_since_precision,
		(new_row).condition, (new_row).construction_year, (new_row).development,
		(new_row).planning_basis, (new_row).bplan_ref, (new_row).contamination,
		(new_row).street, (new_row).house_number, (new_row).postcode, (new_row).locality,
		(new_row).gemarkung, (new_row).flur, (new_row).flurstueck, (new_row).parcel_ids,
		ST_SetSRID(ST_MakePoint((new_row).lon, (new_row).lat), 4326),
		(new_row).usable_area_m2, (new_row).floor_area_m2, (new_row).sales_area_m2,
		(new_row).plot_area_m2, (new_row).divisible_from_m2, (new_row).purchase_price_eur,
		(new_row).rent_eur_month, (new_row).rent_eur_m2, (new_row).price_on_request,
		(new_row).title, (new_row).description, (new_row).location_text,
		(new_row).marketing_contact, (new_row).attachments
	FROM sync_stage WHERE outcome = 'created';

	UPDATE registry.record r SET updated_at = now(), withdrawn_at = NULL,
		municipality_ars = (s.new_row).municipality_ars,
		last_verified_at = (s.new_row).last_verified_at, site_kind = (s.new_row).site_kind,
		usage = (s.new_row).usage, marketing = (s.new_row).marketing,
		object_type = (s.new_row).object_type, status = (s.new_row).status,
		vacancy_degree = (s.new_row).vacancy_degree, vacant_since = (s.new_row).vacant_since,
		vacant_since_precision = (s.new_row).vacant_since_precision,
		condition = (s.new_row).condition, construction_year = (s.new_row).construction_year,
		development = (s.new_row).development, planning_basis = (s.new_row).planning_basis,
		bplan_ref = (s.new_row).bplan_ref, contamination = (s.new_row).contamination,
		street = (s.new_row).street, house_number = (s.new_row).house_number,
		postcode = (s.new_row).postcode, locality = (s.new_row).locality,
		gemarkung = (s.new_row).gemarkung, flur = (s.new_row).flur,
		flurstueck = (s.new_row).flurstueck, parcel_ids = (s.new_row).parcel_ids,
		geom = ST_SetSRID(ST_MakePoint((s.new_row).lon, (s.new_row).lat), 4326),
		usable_area_m2 = (s.new_row).usable_area_m2, floor_area_m2 = (s.new_row).floor_area_m2,
		sales_area_m2 = (s.new_row).sales_area_m2, plot_area_m2 = (s.new_row).plot_area_m2,
		divisible_from_m2 = (s.new_row).divisible_from_m2,
		purchase_price_eur = (s.new_row).purchase_price_eur,
		rent_eur_month = (s.new_row).rent_eur_month, rent_eur_m2 = (s.new_row).rent_eur_m2,
		price_on_request = (s.new_row).price_on_request, title = (s.new_row).title,
		description = (s.new_row).description, location_text = (s.new_row).location_text,
		marketing_contact = (s.new_row).marketing_contact,
		attachments = (s.new_row).attachments
	FROM sync_stage s WHERE s.outcome = 'updated' AND r.record_id = s.record_id;
	UPDATE registry.record_internal i SET revision = s.revision,
		publication = (s.new_row).publication, owner_consent = (s.new_row).owner_consent,
		owner_consent_date = (s.new_row).owner_consent_date,
		source_x = (s.new_row).source_x, source_y = (s.new_row).source_y,
		source_crs = (s.new_row).source_crs, location_blur_m = (s.new_row).location_blur_m,
		owner_category = (s.new_row).owner_category,
		internal_notes = (s.new_row).internal_notes
	FROM sync_stage s WHERE s.outcome = 'updated' AND i.record_id = s.record_id;
	UPDATE registry.record_personal p SET vacancy_reason = (s.new_row).vacancy_reason,
		owner_name = (s.new_row).owner_name, owner_address = (s.new_row).owner_address,
		owner_phone = (s.new_row).owner_phone, owner_email = (s.new_row).owner_email,
		owner_willingness = (s.new_row).owner_willingness,
		attachment_rights_holders = (s.new_row).attachment_rights_holders
	FROM sync_stage s WHERE s.outcome = 'updated' AND p.record_id = s.record_id;

	-- tombstones: withdrawals and, for FULL, what was not named
	UPDATE registry.record r SET withdrawn_at = now(), updated_at = now()
	FROM sync_stage s WHERE s.outcome = 'withdrawn' AND r.record_id = s.record_id;
	UPDATE registry.record_internal i SET revision = s.revision
	FROM sync_stage s WHERE s.outcome = 'withdrawn' AND i.record_id = s.record_id;
	IF p_scope = 'FULL' THEN
		UPDATE registry.record r SET withdrawn_at = now(), updated_at = now()
		FROM sync_omitted o WHERE r.record_id = o.record_id;
	END IF;

	-- history: created records in two rows (their fields, and their status,
	-- from which vacancy durations are reckoned); updates field by field;
	-- PERSONAL values only in history_personal
	WITH created AS (
		SELECT s.record_id, s.revision, to_jsonb(s.new_row) AS doc FROM sync_stage s
		WHERE s.outcome = 'created'
	), rows AS (
		SELECT record_id, revision, '(created)' AS field, 'INTERNAL' AS tier,
			NULL::text AS old_value,
			jsonb_strip_nulls(doc - registry.personal_keys())::text AS new_value,
			NULL::text AS p_new
		FROM created
		UNION ALL
		SELECT record_id, revision, '(created)', 'PERSONAL', NULL, NULL, pers::text
		FROM created, LATERAL (SELECT nullif(jsonb_strip_nulls(jsonb_build_object(
			'vacancy_reason', doc->'vacancy_reason', 'owner_name', doc->'owner_name',
			'owner_address', doc->'owner_address', 'owner_phone', doc->'owner_phone',
			'owner_email', doc->'owner_email', 'owner_willingness', doc->'owner_willingness',
			'attachment_rights_holders', nullif(doc->'attachment_rights_holders', '[]'))),
			'{}') AS pers) x
		WHERE pers IS NOT NULL
		UNION ALL
		SELECT record_id, revision, 'status', 'PUBLIC', NULL, doc->>'status', NULL
		FROM created
	), ins AS (
		INSERT INTO registry.history (record_id, principal_id, municipality_ags, transfer_id,
			revision, field, tier, old_value, new_value)
		SELECT record_id, p_principal, p_ags, p_transfer_id, revision, field, tier, old_value,
			new_value FROM rows
		RETURNING history_id, record_id, tier
	)
	INSERT INTO registry.history_personal (history_id, old_value, new_value)
	SELECT ins.history_id, NULL, rows.p_new
	FROM ins JOIN rows ON rows.record_id = ins.record_id AND rows.tier = 'PERSONAL'
	WHERE ins.tier = 'PERSONAL';

	WITH d AS (
		SELECT s.record_id, s.revision,
			CASE n.key WHEN 'lat' THEN 'location.lat' WHEN 'lon' THEN 'location.lon'
				ELSE n.key END AS field,
			registry.field_tier(n.key) AS tier, o.value #>> '{}' AS old_value,
			n.value #>> '{}' AS new_value
		FROM sync_stage s, jsonb_each(to_jsonb(s.new_row)) n
		JOIN jsonb_each(to_jsonb(s.cur_row)) o USING (key)
		WHERE s.outcome = 'updated' AND n.value IS DISTINCT FROM o.value
		UNION ALL
		SELECT s.record_id, s.revision, 'withdrawn_at', 'PUBLIC',
			registry.rfc3339(s.cur_withdrawn), NULL
		FROM sync_stage s WHERE s.outcome = 'updated' AND s.cur_withdrawn IS NOT NULL
		UNION ALL
		SELECT s.record_id, s.revision, 'withdrawn_at', 'PUBLIC', NULL, registry.rfc3339(now())
		FROM sync_stage s WHERE s.outcome = 'withdrawn'
		UNION ALL
		SELECT o.record_id, o.revision, 'withdrawn_at', 'PUBLIC', NULL, registry.rfc3339(now())
		FROM sync_omitted o WHERE p_scope = 'FULL'
	), ins AS (
		INSERT INTO registry.history (record_id, principal_id, municipality_ags, transfer_id,
			revision, field, tier, old_value, new_value)
		SELECT record_id, p_principal, p_ags, p_transfer_id, revision, field, tier,
			CASE WHEN tier = 'PERSONAL' THEN NULL ELSE old_value END,
			CASE WHEN tier = 'PERSONAL' THEN NULL ELSE new_value END
		FROM d
		RETURNING history_id, record_id, field, tier
	)
	INSERT INTO registry.history_personal (history_id, old_value, new_value)
	SELECT ins.history_id, d.old_value, d.new_value
	FROM ins JOIN d USING (record_id, field)
	WHERE ins.tier = 'PERSONAL';

	-- the feed, in commit order
	PERFORM pg_advisory_xact_lock(hashtext('vacancyd.feed'));
	INSERT INTO registry.feed (record_id, kind)
	SELECT record_id, CASE WHEN outcome = 'withdrawn' THEN 'WITHDRAW' ELSE 'UPSERT' END::registry.change_kind
	FROM sync_stage WHERE outcome IN ('created', 'updated', 'withdrawn')
	ORDER BY idx;
	IF p_scope = 'FULL' THEN
		INSERT INTO registry.feed (record_id, kind)
		SELECT record_id, 'WITHDRAW' FROM sync_omitted ORDER BY record_id;
	END IF;

	-- a FULL stock in several parts: remember what this part named
	IF p_full_session IS NOT NULL THEN
		IF p_scope = 'FULL' THEN
			DELETE FROM registry.sync_session_item
			WHERE municipality_ags = p_ags AND full_session = p_full_session;
		ELSE
			INSERT INTO registry.sync_session_item (municipality_ags, full_session, external_id)
			SELECT p_ags, p_full_session, external_id FROM sync_stage
			ON CONFLICT DO NOTHING;
		END IF;
	END IF;

	INSERT INTO registry.transfer (municipality_ags, transfer_id, principal_id, scope,
		request_sha256, response, full_session, created, updated, unchanged, withdrawn, stale)
	VALUES (p_ags, p_transfer_id, p_principal, p_scope, p_request_sha256, v_result,
		p_full_session, n_created, n_updated, n_unchanged, n_withdrawn + n_omitted, n_stale);
	RETURN v_result;
END
$$;

