-- 001_schema: the registry's schema v1.
--
-- The privacy boundary is structural:
--   registry.record           PUBLIC fields (and the keys)
--   registry.record_internal  INTERNAL fields
--   registry.record_personal  PERSONAL fields
--   investor.published_record the only thing the investor role can read:
--                             published records, PUBLIC fields, blurred.
-- The staff role (municipality and county requests) cannot read
-- record_personal either: it reads full records only through
-- registry.read_full(), which checks the principal's scope and writes every
-- read to registry.personal_access_log in the same statement.
--
-- Roles are created NOLOGIN here if they do not exist; deploy/pg.sh (or the
-- DBA of a production cluster) gives them LOGIN and a password.

CREATE EXTENSION IF NOT EXISTS postgis;

DO $$
BEGIN
	IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'vacancyd_staff') THEN
		CREATE ROLE vacancyd_staff NOLOGIN;
	END IF;
	IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'vacancyd_investor') THEN
		CREATE ROLE vacancyd_investor NOLOGIN;
	END IF;
END
$$;

REVOKE ALL ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO vacancyd_staff, vacancyd_investor;

CREATE SCHEMA registry;
CREATE SCHEMA investor;
REVOKE ALL ON SCHEMA registry, investor FROM PUBLIC;

-- ---- enums: the values of record.md, spelled as in proto/vacancy.proto ----

CREATE TYPE registry.publication AS ENUM ('INTERNAL', 'PUBLIC');
CREATE TYPE registry.owner_consent AS ENUM
	('UNKNOWN', 'NOTICE_PUBLISHED', 'NO_OBJECTION', 'CONSENTED', 'OBJECTED');
CREATE TYPE registry.site_kind AS ENUM ('BUILDING', 'UNIT', 'PLOT', 'BROWNFIELD');
CREATE TYPE registry.usage AS ENUM
	('RESIDENTIAL', 'COMMERCIAL', 'INDUSTRIAL', 'AGRICULTURAL', 'MIXED');
CREATE TYPE registry.marketing AS ENUM ('SALE', 'RENT', 'LEASEHOLD', 'LEASE');
CREATE TYPE registry.object_type AS ENUM
	('OFFICE_PRACTICE', 'RETAIL', 'HOSPITALITY', 'HALL_STORAGE_PRODUCTION', 'PLOT', 'HOUSE',
	 'APARTMENT', 'AGRICULTURE_FORESTRY', 'PARKING', 'LEISURE_COMMERCIAL', 'INVESTMENT',
	 'OTHER');
CREATE TYPE registry.status AS ENUM
	('SUSPECTED', 'CONFIRMED', 'MARKETED', 'RESERVED', 'REUSED', 'WITHDRAWN', 'DEMOLISHED');
CREATE TYPE registry.vacancy_degree AS ENUM ('COMPLETE', 'PARTIAL');
CREATE TYPE registry.date_precision AS ENUM ('DAY', 'MONTH', 'YEAR', 'ESTIMATE');
CREATE TYPE registry.vacancy_reason AS ENUM
	('PRICE_EXPECTATION', 'HEIRS_DISPUTE', 'REFURBISHMENT_NEEDED', 'MARKETING_FAILED',
	 'NO_INTEREST', 'OTHER');
CREATE TYPE registry.condition AS ENUM
	('FIRST_OCCUPANCY', 'AS_NEW', 'MODERNISED', 'REFURBISHED', 'WELL_KEPT',
	 'NEEDS_REFURBISHMENT', 'DILAPIDATED', 'SHELL', 'GUTTED', 'DEMOLITION_OBJECT',
	 'PROJECTED');
CREATE TYPE registry.development AS ENUM ('NONE', 'PARTIAL', 'FULL', 'LOCAL_STANDARD');
CREATE TYPE registry.planning_basis AS ENUM
	('BPLAN', 'S34', 'S35', 'EXPECTED_BUILDING_LAND', 'NOT_BUILDING_LAND');
CREATE TYPE registry.contamination AS ENUM ('NONE_KNOWN', 'SUSPECTED', 'CONFIRMED', 'REMEDIATED');
CREATE TYPE registry.owner_category AS ENUM ('PRIVATE', 'BUSINESS', 'PUBLIC', 'MUNICIPAL', 'UNKNOWN');
CREATE TYPE registry.owner_willingness AS ENUM ('UNKNOWN', 'NONE', 'SELL', 'LET', 'UNDECIDED');
CREATE TYPE registry.role AS ENUM ('municipality', 'county', 'investor');
CREATE TYPE registry.change_kind AS ENUM ('UPSERT', 'WITHDRAW');

-- ---- official keys ----

CREATE TABLE registry.municipality (
	ags char(8) PRIMARY KEY CHECK (ags ~ '^(0[1-9]|1[0-6])[0-9]{6}$'),
	ars char(12) CHECK (ars ~ '^[0-9]{12}$'),
	name text NOT NULL
);

-- ---- principals and credentials ----

CREATE TABLE registry.principal (
	principal_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	role registry.role NOT NULL,
	-- AGS (municipality), AGS prefix (county), '' for investors
	scope text NOT NULL CHECK (scope ~ '^[0-9]{0,8}$'),
	name text NOT NULL,
	created_at timestamptz NOT NULL DEFAULT now(),
	revoked_at timestamptz,
	CHECK (role <> 'municipality' OR length(scope) = 8),
	CHECK (role <> 'county' OR length(scope) BETWEEN 2 AND 8)
);

-- Tokens are stored only as SHA-256 hashes; prefix is the first 12
-- characters, shown to staff to tell tokens apart.
CREATE TABLE registry.credential (
	token_hash bytea PRIMARY KEY CHECK (length(token_hash) = 32),
	prefix text NOT NULL,
	principal_id bigint NOT NULL REFERENCES registry.principal,
	created_at timestamptz NOT NULL DEFAULT now(),
	revoked_at timestamptz
);
CREATE INDEX credential_prefix ON registry.credential (prefix);

-- ---- the record, split by visibility tier ----

CREATE TABLE registry.record (
	record_id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	municipality_ags char(8) NOT NULL CHECK (municipality_ags ~ '^(0[1-9]|1[0-6])[0-9]{6}$'),
	municipality_ars char(12) CHECK (municipality_ars ~ '^[0-9]{12}$'),
	updated_at timestamptz NOT NULL DEFAULT now(),
	last_verified_at date NOT NULL,
	site_kind registry.site_kind NOT NULL,
	usage registry.usage[] NOT NULL CHECK (cardinality(usage) > 0),
	marketing registry.marketing[] NOT NULL DEFAULT '{}',
	object_type registry.object_type NOT NULL,
	status registry.status NOT NULL,
	vacancy_degree registry.vacancy_degree,
	vacant_since date,
	vacant_since_precision registry.date_precision,
	condition registry.condition,
	construction_year int,
	development registry.development,
	planning_basis registry.planning_basis,
	bplan_ref text CHECK (length(bplan_ref) <= 512),
	contamination registry.contamination,
	street text NOT NULL,
	house_number text,
	postcode char(5) NOT NULL CHECK (postcode ~ '^[0-9]{5}$'),
	locality text NOT NULL,
	gemarkung text,
	flur text,
	flurstueck text,
	parcel_ids text[] NOT NULL DEFAULT '{}',
	geom geometry(Point, 4326) NOT NULL,
	usable_area_m2 double precision CHECK (usable_area_m2 >= 0),
	floor_area_m2 double precision CHECK (floor_area_m2 >= 0),
	sales_area_m2 double precision CHECK (sales_area_m2 >= 0),
	plot_area_m2 double precision CHECK (plot_area_m2 >= 0),
	divisible_from_m2 double precision CHECK (divisible_from_m2 >= 0),
	purchase_price_eur numeric(14, 2) CHECK (purchase_price_eur >= 0),
	rent_eur_month numeric(12, 2) CHECK (rent_eur_month >= 0),
	rent_eur_m2 numeric(10, 2) CHECK (rent_eur_m2 >= 0),
	price_on_request boolean NOT NULL DEFAULT false,
	title text CHECK (length(title) <= 200),
	description text CHECK (length(description) <= 8000),
	location_text text CHECK (length(location_text) <= 4000),
	marketing_contact jsonb,
	-- public parts of attachments; rights holders live in record_personal
	attachments jsonb NOT NULL DEFAULT '[]',
	withdrawn_at timestamptz,
	UNIQUE (record_id, municipality_ags)
);
CREATE INDEX record_ags_kind_status ON registry.record (municipality_ags, site_kind, status);
CREATE INDEX record_updated ON registry.record (updated_at);
CREATE INDEX record_geom ON registry.record USING gist (geom);

CREATE TABLE registry.record_internal (
	record_id uuid PRIMARY KEY,
	municipality_ags char(8) NOT NULL,
	external_id text NOT NULL CHECK (length(external_id) BETWEEN 1 AND 64),
	revision numeric(20, 0) NOT NULL CHECK (revision >= 0 AND revision < 18446744073709551616),
	publication registry.publication NOT NULL,
	owner_consent registry.owner_consent NOT NULL,
	owner_consent_date date,
	source_x double precision,
	source_y double precision,
	source_crs int CHECK (source_crs IN (25832, 25833)),
	location_blur_m int NOT NULL DEFAULT 0 CHECK (location_blur_m BETWEEN 0 AND 2000),
	owner_category registry.owner_category,
	internal_notes text CHECK (length(internal_notes) <= 8000),
	UNIQUE (municipality_ags, external_id),
	FOREIGN KEY (record_id, municipality_ags)
		REFERENCES registry.record (record_id, municipality_ags) ON DELETE CASCADE
);

CREATE TABLE registry.record_personal (
	record_id uuid PRIMARY KEY REFERENCES registry.record ON DELETE CASCADE,
	vacancy_reason registry.vacancy_reason,
	owner_name text,
	owner_address text,
	owner_phone text,
	owner_email text,
	owner_willingness registry.owner_willingness,
	-- rights_holder of attachments[i], same order as record.attachments
	attachment_rights_holders text[] NOT NULL DEFAULT '{}'
);

-- ---- transfers, history, feed, access log ----

CREATE TABLE registry.transfer (
	municipality_ags char(8) NOT NULL,
	transfer_id text NOT NULL CHECK (length(transfer_id) BETWEEN 1 AND 128),
	principal_id bigint NOT NULL REFERENCES registry.principal,
	received_at timestamptz NOT NULL DEFAULT now(),
	scope text NOT NULL,
	request_sha256 bytea NOT NULL,
	response bytea NOT NULL, -- the SyncResponse as first answered
	PRIMARY KEY (municipality_ags, transfer_id)
);
CREATE INDEX transfer_received ON registry.transfer (municipality_ags, received_at);

-- Field-level history: one row per changed field. Values of PERSONAL
-- fields are not kept here (the tier column says so); their old and new
-- values live in history_personal, readable only through read functions.
CREATE TABLE registry.history (
	history_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	record_id uuid NOT NULL REFERENCES registry.record ON DELETE CASCADE,
	changed_at timestamptz NOT NULL DEFAULT now(),
	principal_id bigint NOT NULL REFERENCES registry.principal,
	municipality_ags char(8) NOT NULL,
	transfer_id text NOT NULL,
	revision numeric(20, 0) NOT NULL,
	field text NOT NULL,
	tier text NOT NULL CHECK (tier IN ('PUBLIC', 'INTERNAL', 'PERSONAL')),
	old_value text,
	new_value text
);
CREATE INDEX history_record ON registry.history (record_id, history_id);
CREATE INDEX history_status ON registry.history (municipality_ags, changed_at) WHERE field = 'status';

CREATE TABLE registry.history_personal (
	history_id bigint PRIMARY KEY REFERENCES registry.history ON DELETE CASCADE,
	old_value text,
	new_value text
);

-- The change feed. Writers append their rows while holding a transaction-
-- level advisory lock taken just before commit, so seq order is commit
-- order and a reader never sees seq N+1 before seq N has committed.
CREATE TABLE registry.feed (
	seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	record_id uuid NOT NULL,
	kind registry.change_kind NOT NULL,
	at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX feed_record ON registry.feed (record_id, seq);

CREATE TABLE registry.personal_access_log (
	access_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	at timestamptz NOT NULL DEFAULT now(),
	principal_id bigint NOT NULL REFERENCES registry.principal,
	record_id uuid NOT NULL,
	purpose text NOT NULL
);
CREATE INDEX personal_access_log_record ON registry.personal_access_log (record_id, at);
CREATE INDEX personal_access_log_principal ON registry.personal_access_log (principal_id, at);

-- ---- formatting helpers: columns named and typed as the proto fields ----

CREATE FUNCTION registry.rfc3339(ts timestamptz) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
	SELECT to_char(ts AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')
$$;

-- Snaps a point to a grid of blur_m metres: the displacement is at most
-- blur_m * sqrt(2)/2, deterministic (averaging many answers reveals
-- nothing), and the same for every investor.
CREATE FUNCTION registry.blur(g geometry, blur_m int) RETURNS geometry
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
	SELECT CASE WHEN coalesce(blur_m, 0) <= 0 THEN g ELSE
		ST_SetSRID(ST_MakePoint(
			round(ST_X(g) / (blur_m / (111320.0 * cos(radians(ST_Y(g)))))) *
				(blur_m / (111320.0 * cos(radians(ST_Y(g))))),
			round(ST_Y(g) / (blur_m / 111320.0)) * (blur_m / 111320.0)), 4326)
	END
$$;

-- ---- what investors read ----

-- record.md: published, MARKETED or RESERVED, not objected to, and either
-- consent / no objection or an owner who is not a natural person.
CREATE FUNCTION registry.is_published(p registry.publication, s registry.status,
	c registry.owner_consent, oc registry.owner_category, withdrawn timestamptz)
RETURNS boolean LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
	SELECT p = 'PUBLIC' AND s IN ('MARKETED', 'RESERVED') AND withdrawn IS NULL
		AND c <> 'OBJECTED'
		AND (c IN ('CONSENTED', 'NO_OBJECTION')
		     OR oc IN ('BUSINESS', 'PUBLIC', 'MUNICIPAL'))
$$;

CREATE VIEW investor.published_record AS
SELECT
	r.record_id,
	r.municipality_ags,
	r.municipality_ars,
	registry.rfc3339(r.updated_at) AS updated_at,
	r.last_verified_at,
	r.site_kind,
	to_json(r.usage) AS usage,
	to_json(r.marketing) AS marketing,
	r.object_type,
	r.status,
	r.vacancy_degree,
	r.vacant_since,
	r.vacant_since_precision,
	r.condition,
	r.construction_year,
	r.development,
	r.planning_basis,
	r.bplan_ref,
	r.contamination,
	r.street,
	CASE WHEN i.location_blur_m > 0 THEN NULL ELSE r.house_number END AS house_number,
	r.postcode,
	r.locality,
	CASE WHEN i.location_blur_m > 0 THEN NULL ELSE r.gemarkung END AS gemarkung,
	CASE WHEN i.location_blur_m > 0 THEN NULL ELSE r.flur END AS flur,
	CASE WHEN i.location_blur_m > 0 THEN NULL ELSE r.flurstueck END AS flurstueck,
	CASE WHEN i.location_blur_m > 0 THEN '[]'::json ELSE to_json(r.parcel_ids) END AS parcel_ids,
	json_build_object('lat', ST_Y(b.g), 'lon', ST_X(b.g)) AS location,
	r.usable_area_m2,
	r.floor_area_m2,
	r.sales_area_m2,
	r.plot_area_m2,
	r.divisible_from_m2,
	r.purchase_price_eur::text AS purchase_price_eur,
	r.rent_eur_month::text AS rent_eur_month,
	r.rent_eur_m2::text AS rent_eur_m2,
	r.price_on_request,
	r.title,
	r.description,
	r.location_text,
	r.marketing_contact,
	r.attachments,
	b.g AS _geom,
	r.updated_at AS _updated_at
FROM registry.record r
JOIN registry.record_internal i USING (record_id)
CROSS JOIN LATERAL (SELECT registry.blur(r.geom, i.location_blur_m) AS g) b
WHERE registry.is_published(i.publication, r.status, i.owner_consent, i.owner_category,
	r.withdrawn_at);
-- The view reads the tables with its owner's rights; the investor role
-- holds SELECT on the view and EXECUTE on the functions it calls, nothing else.

-- ---- what staff read: everything, through a logging function ----

CREATE VIEW registry.full_record AS
SELECT
	r.record_id,
	r.municipality_ags,
	r.municipality_ars,
	i.external_id,
	i.revision::text AS revision,
	registry.rfc3339(r.updated_at) AS updated_at,
	r.last_verified_at,
	i.publication,
	i.owner_consent,
	i.owner_consent_date,
	r.site_kind,
	to_json(r.usage) AS usage,
	to_json(r.marketing) AS marketing,
	r.object_type,
	r.status,
	r.vacancy_degree,
	r.vacant_since,
	r.vacant_since_precision,
	p.vacancy_reason,
	r.condition,
	r.construction_year,
	r.development,
	r.planning_basis,
	r.bplan_ref,
	r.contamination,
	r.street,
	r.house_number,
	r.postcode,
	r.locality,
	r.gemarkung,
	r.flur,
	r.flurstueck,
	to_json(r.parcel_ids) AS parcel_ids,
	json_build_object('lat', ST_Y(r.geom), 'lon', ST_X(r.geom)) AS location,
	i.source_x,
	i.source_y,
	i.source_crs,
	i.location_blur_m,
	r.usable_area_m2,
	r.floor_area_m2,
	r.sales_area_m2,
	r.plot_area_m2,
	r.divisible_from_m2,
	r.purchase_price_eur::text AS purchase_price_eur,
	r.rent_eur_month::text AS rent_eur_month,
	r.rent_eur_m2::text AS rent_eur_m2,
	r.price_on_request,
	r.title,
	r.description,
	r.location_text,
	r.marketing_contact,
	-- attachments with their rights holders merged back in, by position
	(SELECT coalesce(jsonb_agg(CASE WHEN p.attachment_rights_holders[a.n] IS NULL THEN a.att
			ELSE a.att || jsonb_build_object('rights_holder',
				p.attachment_rights_holders[a.n]) END ORDER BY a.n), '[]'::jsonb)
	 FROM jsonb_array_elements(r.attachments) WITH ORDINALITY AS a(att, n)) AS attachments,
	i.owner_category,
	p.owner_name,
	p.owner_address,
	p.owner_phone,
	p.owner_email,
	p.owner_willingness,
	i.internal_notes,
	registry.rfc3339(r.withdrawn_at) AS withdrawn_at
FROM registry.record r
JOIN registry.record_internal i USING (record_id)
JOIN registry.record_personal p USING (record_id);

-- Full records for a staff principal: only records in the principal's
-- scope (looked up here, not trusted from the caller), and every record
-- returned is written to the access log with the purpose, in the same
-- statement. Revoked or investor principals get nothing.
CREATE FUNCTION registry.read_full(p_principal bigint, p_purpose text, p_ids uuid[])
RETURNS SETOF registry.full_record
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = registry, public, pg_temp AS $$
	WITH who AS (
		SELECT scope FROM registry.principal
		WHERE principal_id = p_principal AND revoked_at IS NULL
		  AND role IN ('municipality', 'county')
	), rows AS (
		SELECT f.* FROM registry.full_record f, who
		WHERE f.record_id = ANY (p_ids) AND f.municipality_ags LIKE who.scope || '%'
	), logged AS (
		INSERT INTO registry.personal_access_log (principal_id, record_id, purpose)
		SELECT p_principal, record_id, p_purpose FROM rows
		RETURNING 1
	)
	-- a data-modifying CTE always runs to completion, read or not
	SELECT rows.* FROM rows
$$;

-- Token lookup for the daemon: the principal behind a valid token.
CREATE FUNCTION registry.authenticate(p_hash bytea)
RETURNS TABLE (principal_id bigint, role registry.role, scope text, name text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = registry, public, pg_temp AS $$
	SELECT p.principal_id, p.role, p.scope, p.name
	FROM registry.credential c JOIN registry.principal p USING (principal_id)
	WHERE c.token_hash = p_hash AND c.revoked_at IS NULL AND p.revoked_at IS NULL
$$;

-- ---- privileges ----

REVOKE ALL ON ALL TABLES IN SCHEMA registry, investor FROM PUBLIC;
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA registry FROM PUBLIC;

GRANT USAGE ON SCHEMA investor TO vacancyd_investor;
GRANT SELECT ON investor.published_record TO vacancyd_investor;

GRANT USAGE ON SCHEMA registry TO vacancyd_staff;
GRANT SELECT ON registry.record, registry.record_internal, registry.municipality,
	registry.transfer, registry.history, registry.feed TO vacancyd_staff;
GRANT EXECUTE ON FUNCTION registry.read_full(bigint, text, uuid[]),
	registry.authenticate(bytea), registry.rfc3339(timestamptz),
	registry.blur(geometry, int),
	registry.is_published(registry.publication, registry.status, registry.owner_consent,
		registry.owner_category, timestamptz) TO vacancyd_staff;
GRANT EXECUTE ON FUNCTION registry.rfc3339(timestamptz), registry.blur(geometry, int),
	registry.is_published(registry.publication, registry.status, registry.owner_consent,
		registry.owner_category, timestamptz) TO vacancyd_investor;
-- Credentials are managed with `vacancyd token` through the staff role.
GRANT SELECT, INSERT, UPDATE ON registry.principal, registry.credential TO vacancyd_staff;
