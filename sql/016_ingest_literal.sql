-- 016_ingest_literal: the transfer as a typed array, apply_transfer in parts.
--
-- Profiled on a 10,000-record transfer of new records (tests/bench/
-- sync_profile.sh, auto_explain): of the database's 1.73 s, 0.49 s went to
-- reading the changes as JSON (json_in checking 30 MB, then
-- json_populate_recordset converting it field by field), 0.09 s to
-- new_record_id() and the rewrite of every staging row it caused, and the
-- history's RETURNING join of its two inserts was a fifth of its 0.5 s.
--
-- Now:
--   - the daemon sends the changes as a registry.sync_change[] literal
--     (daemon/syncrow.c): the row a sync_row literal in the type's column
--     order, read by each column type's own input function, no JSON parse;
--   - the history documents, which the daemon writes with its JSON encoder,
--     arrive as text (history keeps text) and are not parsed again;
--   - each upsert brings the id its record gets if it is created (i, a UUID
--     of version 7 made by the daemon), set in the same pass that decides
--     the outcome;
--   - history ids are drawn before the insert, so that a record's history
--     rows and their PERSONAL values are written from one set without
--     joining the inserted rows back;
--   - the changes stay as staged (sync_input); what is decided about them
--     (the stored record, its revision, the outcome) goes to a narrow table
--     of its own (sync_fate). Three UPDATEs of the wide staging rows (3 KB
--     each, with the history documents) took 270 ms of a 10,000-record
--     transfer that changed nothing. The writes read both through the view
--     sync_stage.
-- apply_transfer is split into its steps (stage, decide, write the records,
-- the history, the feed), each a function of its own that only
-- apply_transfer calls.

DROP FUNCTION registry.apply_transfer(bigint, text, text, text, text, boolean, bytea, json);
ALTER TYPE registry.sync_change
	ALTER ATTRIBUTE h TYPE text,
	ALTER ATTRIBUTE p TYPE text,
	ADD ATTRIBUTE i uuid;

-- Stages the changes, typed, in the temporary table sync_input (dropped at
-- commit); converts source coordinates. Returns the positions outside
-- Germany as errors, or NULL.
CREATE FUNCTION registry.sync_stage(p_changes registry.sync_change[])
RETURNS jsonb
LANGUAGE plpgsql VOLATILE SET search_path = registry, public, pg_temp AS $$
DECLARE
	v_errors jsonb;
BEGIN
	CREATE TEMP TABLE sync_input (
		idx int PRIMARY KEY,
		is_upsert boolean NOT NULL,
		external_id text NOT NULL,
		revision numeric NOT NULL,
		new_row registry.sync_row,
		h_doc text,
		p_doc text,
		new_id uuid,
		utm boolean NOT NULL DEFAULT false
	) WITH (toast_tuple_target = 8160) ON COMMIT DROP;
	INSERT INTO sync_input (idx, is_upsert, external_id, revision, new_row, h_doc, p_doc,
		new_id)
	SELECT (e.n - 1)::int, e.u, e.x, e.r, CASE WHEN e.u THEN e.d END, e.h, e.p, e.i
	FROM unnest(p_changes) WITH ORDINALITY AS e(u, x, r, d, h, p, i, n);

	-- source coordinates (ETRS89/UTM) to WGS84 where no location was given
	UPDATE sync_input s SET
		new_row.lat = ST_Y(t.g), new_row.lon = ST_X(t.g), utm = true
	FROM (SELECT idx, ST_Transform(ST_SetSRID(ST_MakePoint((new_row).source_x,
			(new_row).source_y), (new_row).source_crs), 4326) AS g
	      FROM sync_input
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
	FROM sync_input
	WHERE is_upsert AND ((new_row).lat IS NULL OR (new_row).lon IS NULL
		OR (new_row).lat NOT BETWEEN 47.2 AND 55.1 OR (new_row).lon NOT BETWEEN 5.8 AND 15.1);
	RETURN v_errors;
END
$$;

-- Finds what is stored now and decides each change's outcome in sync_fate;
-- a created record gets the id the daemon sent. sync_stage is both.
CREATE FUNCTION registry.sync_decide(p_ags text)
RETURNS void
LANGUAGE plpgsql VOLATILE SET search_path = registry, public, pg_temp AS $$
BEGIN
	-- the named records by (municipality, external_id), then their rows by
	-- record_id (not the rows of the whole municipality)
	CREATE TEMP TABLE sync_fate ON COMMIT DROP AS
	SELECT s.idx, s.is_upsert, s.revision, s.new_id, i.record_id,
		i.revision AS cur_revision, NULL::timestamptz AS cur_withdrawn,
		NULL::boolean AS same, NULL::registry.sync_row AS cur_row, NULL::text AS outcome
	FROM sync_input s
	LEFT JOIN registry.record_internal i
		ON i.municipality_ags = p_ags AND i.external_id = s.external_id;
	ALTER TABLE sync_fate ADD PRIMARY KEY (idx);
	IF EXISTS (SELECT 1 FROM sync_fate WHERE record_id IS NOT NULL) THEN
		ANALYZE sync_fate (record_id);
		-- the stored row is kept where the field history will need it
		UPDATE sync_fate f SET cur_withdrawn = c.withdrawn_at, same = s.new_row = c.row,
			cur_row = CASE WHEN s.new_row = c.row AND c.withdrawn_at IS NULL
				THEN NULL ELSE c.row END
		FROM sync_input s, registry.sync_current c
		WHERE s.idx = f.idx AND c.record_id = f.record_id;
	END IF;

	UPDATE sync_fate SET outcome = CASE
		WHEN is_upsert AND record_id IS NULL THEN 'created'
		WHEN is_upsert AND cur_withdrawn IS NULL AND same THEN 'unchanged'
		WHEN is_upsert AND revision <= cur_revision THEN 'stale'
		WHEN is_upsert THEN 'updated'
		WHEN record_id IS NULL OR cur_withdrawn IS NOT NULL THEN 'unchanged'
		WHEN revision <= cur_revision THEN 'stale'
		ELSE 'withdrawn' END,
		record_id = CASE WHEN is_upsert AND record_id IS NULL THEN new_id
			ELSE record_id END;
	IF EXISTS (SELECT 1 FROM sync_fate WHERE outcome = 'created' AND record_id IS NULL) THEN
		RAISE EXCEPTION 'a created record has no id' USING ERRCODE = 'XX000';
	END IF;
	-- the writes below each read the rows of one outcome: an index and the
	-- counts let them skip the others
	CREATE INDEX ON sync_fate (outcome);
	ANALYZE sync_fate;
	CREATE TEMP VIEW sync_stage AS
	SELECT s.idx, s.is_upsert, s.external_id, s.revision, s.new_row, s.h_doc, s.p_doc,
		s.utm, f.record_id, f.cur_revision, f.cur_withdrawn, f.cur_row, f.outcome
	FROM sync_input s JOIN sync_fate f USING (idx);
END
$$;

-- The record rows: created, updated, withdrawn, and for FULL the omitted.
CREATE FUNCTION registry.sync_write_records(p_ags text, p_scope text)
RETURNS void
LANGUAGE plpgsql VOLATILE SET search_path = registry, public, pg_temp AS $$
BEGIN
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
END
$$;

-- History: created records in two rows (their fields as the daemon wrote
-- them, with the position computed from source coordinates; and their
-- status, from which vacancy durations are reckoned) and a third with their
-- PERSONAL fields, if any; updates field by field; PERSONAL values only in
-- history_personal. Ids are drawn first: both tables are written from one
-- set.
CREATE FUNCTION registry.sync_write_history(p_principal bigint, p_ags text,
	p_transfer_id text, p_scope text)
RETURNS void
LANGUAGE plpgsql VOLATILE SET search_path = registry, public, pg_temp AS $$
DECLARE
	v_seq regclass := pg_get_serial_sequence('registry.history', 'history_id')::regclass;
BEGIN
	WITH rows AS MATERIALIZED (
		SELECT nextval(v_seq) AS history_id, r.*
		FROM (SELECT record_id, revision, '(created)' AS field, 'INTERNAL' AS tier,
			CASE WHEN utm THEN (h_doc::jsonb || jsonb_build_object('lat', (new_row).lat,
				'lon', (new_row).lon))::text ELSE h_doc END AS new_value,
			NULL::text AS p_new
		FROM sync_stage WHERE outcome = 'created'
		UNION ALL
		SELECT record_id, revision, '(created)', 'PERSONAL', NULL, p_doc
		FROM sync_stage WHERE outcome = 'created' AND p_doc IS NOT NULL
		UNION ALL
		SELECT record_id, revision, 'status', 'PUBLIC', (new_row).status::text, NULL
		FROM sync_stage WHERE outcome = 'created') r
	), ins AS (
		INSERT INTO registry.history (history_id, record_id, principal_id, municipality_ags,
			transfer_id, revision, field, tier, new_value)
		OVERRIDING SYSTEM VALUE
		SELECT history_id, record_id, p_principal, p_ags, p_transfer_id, revision, field,
			tier, new_value
		FROM rows
	)
	INSERT INTO registry.history_personal (history_id, old_value, new_value)
	SELECT history_id, NULL, p_new FROM rows WHERE tier = 'PERSONAL';

	WITH d AS MATERIALIZED (
		SELECT nextval(v_seq) AS history_id, u.*
		FROM (SELECT s.record_id, s.revision,
			CASE n.key WHEN 'lat' THEN 'location.lat' WHEN 'lon' THEN 'location.lon'
				ELSE n.key END AS field,
			registry.field_tier(n.key) AS tier, j.o -> n.key #>> '{}' AS old_value,
			n.value #>> '{}' AS new_value
		FROM sync_stage s,
			-- OFFSET 0: each made once, not once per key
			LATERAL (SELECT to_jsonb(s.new_row) AS n, to_jsonb(s.cur_row) AS o OFFSET 0) j,
			LATERAL jsonb_each(j.n) n
		WHERE s.outcome = 'updated' AND s.new_row IS DISTINCT FROM s.cur_row
		  AND n.value IS DISTINCT FROM j.o -> n.key
		UNION ALL
		SELECT s.record_id, s.revision, 'withdrawn_at', 'PUBLIC',
			registry.rfc3339(s.cur_withdrawn), NULL
		FROM sync_stage s WHERE s.outcome = 'updated' AND s.cur_withdrawn IS NOT NULL
		UNION ALL
		SELECT s.record_id, s.revision, 'withdrawn_at', 'PUBLIC', NULL, registry.rfc3339(now())
		FROM sync_stage s WHERE s.outcome = 'withdrawn'
		UNION ALL
		SELECT o.record_id, o.revision, 'withdrawn_at', 'PUBLIC', NULL, registry.rfc3339(now())
		FROM sync_omitted o WHERE p_scope = 'FULL') u
	), ins AS (
		INSERT INTO registry.history (history_id, record_id, principal_id, municipality_ags,
			transfer_id, revision, field, tier, old_value, new_value)
		OVERRIDING SYSTEM VALUE
		SELECT history_id, record_id, p_principal, p_ags, p_transfer_id, revision, field,
			tier,
			CASE WHEN tier = 'PERSONAL' THEN NULL ELSE old_value END,
			CASE WHEN tier = 'PERSONAL' THEN NULL ELSE new_value END
		FROM d
	)
	INSERT INTO registry.history_personal (history_id, old_value, new_value)
	SELECT history_id, old_value, new_value FROM d WHERE tier = 'PERSONAL';
END
$$;

-- The feed, in commit order, and what a FULL stock in several parts named.
CREATE FUNCTION registry.sync_write_feed(p_ags text, p_scope text, p_full_session text)
RETURNS void
LANGUAGE plpgsql VOLATILE SET search_path = registry, public, pg_temp AS $$
BEGIN
	PERFORM pg_advisory_xact_lock(hashtext('vacancyd.feed'));
	INSERT INTO registry.feed (record_id, kind)
	SELECT record_id, CASE WHEN outcome = 'withdrawn' THEN 'WITHDRAW' ELSE 'UPSERT' END::registry.change_kind
	FROM sync_stage WHERE outcome IN ('created', 'updated', 'withdrawn')
	ORDER BY idx;
	IF p_scope = 'FULL' THEN
		INSERT INTO registry.feed (record_id, kind)
		SELECT record_id, 'WITHDRAW' FROM sync_omitted ORDER BY record_id;
	END IF;

	IF p_full_session IS NOT NULL THEN
		IF p_scope = 'FULL' THEN
			DELETE FROM registry.sync_session_item
			WHERE municipality_ags = p_ags AND full_session = p_full_session;
		ELSE
			INSERT INTO registry.sync_session_item (municipality_ags, full_session, external_id)
			SELECT p_ags, p_full_session, external_id FROM sync_input
			ON CONFLICT DO NOTHING;
		END IF;
	END IF;
END
$$;

CREATE FUNCTION registry.apply_transfer(p_principal bigint, p_ags text, p_transfer_id text,
	p_scope text, p_full_session text, p_validate_only boolean, p_request_sha256 bytea,
	p_changes registry.sync_change[])
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

	v_errors := registry.sync_stage(p_changes);
	IF v_errors IS NOT NULL THEN
		RETURN jsonb_build_object('transfer_id', p_transfer_id,
			'validate_only', p_validate_only,
			'rejected', jsonb_array_length(v_errors), 'errors', v_errors);
	END IF;
	PERFORM registry.sync_decide(p_ags);

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
		  AND NOT EXISTS (SELECT 1 FROM sync_input s WHERE s.external_id = i.external_id)
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

	PERFORM registry.sync_write_records(p_ags, p_scope);
	PERFORM registry.sync_write_history(p_principal, p_ags, p_transfer_id, p_scope);
	PERFORM registry.sync_write_feed(p_ags, p_scope, p_full_session);

	INSERT INTO registry.transfer (municipality_ags, transfer_id, principal_id, scope,
		request_sha256, response, full_session, created, updated, unchanged, withdrawn, stale)
	VALUES (p_ags, p_transfer_id, p_principal, p_scope, p_request_sha256, v_result,
		p_full_session, n_created, n_updated, n_unchanged, n_withdrawn + n_omitted, n_stale);
	RETURN v_result;
END
$$;

-- only apply_transfer (SECURITY DEFINER) runs the steps
REVOKE ALL ON FUNCTION registry.sync_stage(registry.sync_change[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION registry.sync_decide(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION registry.sync_write_records(text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION registry.sync_write_history(bigint, text, text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION registry.sync_write_feed(text, text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION registry.apply_transfer(bigint, text, text, text, text, boolean, bytea,
	registry.sync_change[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION registry.apply_transfer(bigint, text, text, text, text, boolean, bytea,
	registry.sync_change[]) TO vacancyd_staff;
