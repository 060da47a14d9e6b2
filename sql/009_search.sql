-- 009_search: what search and the GeoJSON export read (docs/search.md).
--
-- Stable page walks. The first page of a search pins the feed position C
-- (the highest feed seq its snapshot sees; feed order is commit order, 003).
-- Later pages must see every record as it was at C, although it may have
-- changed since: a record unchanged since C is read from registry.record, a
-- record changed after C from its version valid at C, kept here. Versions
-- are captured by a statement trigger when registry.record is updated (the
-- first update of a record in a transaction keeps the version before it)
-- and closed by the feed rows that the same transaction writes last: valid
-- from the feed seq that made it to the feed seq that replaced it. Versions
-- are kept a day (the daemon's page_token_ttl_s is at most 24 h).
CREATE TABLE registry.record_past (
	record_id uuid NOT NULL,
	valid_from bigint NOT NULL,
	valid_to bigint,
	txid bigint NOT NULL DEFAULT txid_current(),
	past_at timestamptz NOT NULL DEFAULT now(),
	municipality_ags char(8) NOT NULL,
	municipality_ars char(12),
	updated_at timestamptz NOT NULL,
	site_kind registry.site_kind NOT NULL,
	usage registry.usage[] NOT NULL,
	marketing registry.marketing[] NOT NULL,
	object_type registry.object_type NOT NULL,
	status registry.status NOT NULL,
	usable_area_m2 double precision,
	plot_area_m2 double precision,
	purchase_price_eur numeric(14, 2),
	rent_eur_month numeric(12, 2),
	geom geometry(Point, 4326) NOT NULL,
	published boolean NOT NULL,
	pub_geom geometry(Point, 4326),
	tsv tsvector,
	withdrawn_at timestamptz
);
CREATE INDEX record_past_to ON registry.record_past (valid_to);
CREATE INDEX record_past_open ON registry.record_past (record_id) WHERE valid_to IS NULL;
CREATE INDEX record_past_age ON registry.record_past (past_at);

CREATE FUNCTION registry.record_keep_past() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = registry, public, pg_temp AS $$
BEGIN
	INSERT INTO registry.record_past (record_id, valid_from, municipality_ags,
		municipality_ars, updated_at, site_kind, usage, marketing, object_type, status,
		usable_area_m2, plot_area_m2, purchase_price_eur, rent_eur_month, geom, published,
		pub_geom, tsv, withdrawn_at)
	SELECT o.record_id, f.seq, o.municipality_ags, o.municipality_ars, o.updated_at,
		o.site_kind, o.usage, o.marketing, o.object_type, o.status, o.usable_area_m2,
		o.plot_area_m2, o.purchase_price_eur, o.rent_eur_month, o.geom, o.published,
		o.pub_geom, o.tsv, o.withdrawn_at
	FROM old_rows o
	-- a record created in this transaction has no feed row yet: no past
	JOIN LATERAL (SELECT max(seq) AS seq FROM registry.feed
		      WHERE record_id = o.record_id) f ON f.seq IS NOT NULL
	WHERE NOT EXISTS (SELECT 1 FROM registry.record_past p
			  WHERE p.record_id = o.record_id AND p.valid_to IS NULL
			    AND p.txid = txid_current());
	RETURN NULL;
END
$$;
CREATE TRIGGER record_keep_past AFTER UPDATE ON registry.record
	REFERENCING OLD TABLE AS old_rows
	FOR EACH STATEMENT EXECUTE FUNCTION registry.record_keep_past();

CREATE FUNCTION registry.record_close_past() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = registry, public, pg_temp AS $$
BEGIN
	UPDATE registry.record_past p SET valid_to = n.seq
	FROM (SELECT record_id, min(seq) AS seq FROM new_rows GROUP BY record_id) n
	WHERE p.record_id = n.record_id AND p.valid_to IS NULL AND p.txid = txid_current();
	DELETE FROM registry.record_past WHERE past_at < now() - interval '25 hours';
	RETURN NULL;
END
$$;
CREATE TRIGGER record_close_past AFTER INSERT ON registry.feed
	REFERENCING NEW TABLE AS new_rows
	FOR EACH STATEMENT EXECUTE FUNCTION registry.record_close_past();

-- The investor's keys: the raw columns search filters and sorts on, added at
-- the end of the view (the _ columns are not Record fields).
CREATE OR REPLACE VIEW investor.published_record AS
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
	json_build_object('lat', ST_Y(r.pub_geom), 'lon', ST_X(r.pub_geom)) AS location,
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
	r.pub_geom::geometry AS _geom,
	r.updated_at AS _updated_at,
	r.tsv AS _tsv,
	r.usage AS _usage,
	r.marketing AS _marketing,
	r.purchase_price_eur AS _price,
	r.rent_eur_month AS _rent
FROM registry.record r
JOIN registry.record_internal i USING (record_id)
WHERE r.published;

-- The investor role cannot name the registry schema's enum types (it has no
-- usage on that schema), so search parameters reach them through these.
CREATE FUNCTION investor.site_kind_array(text[]) RETURNS registry.site_kind[]
LANGUAGE sql STABLE STRICT SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$ SELECT $1::registry.site_kind[] $$;
CREATE FUNCTION investor.usage_array(text[]) RETURNS registry.usage[]
LANGUAGE sql STABLE STRICT SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$ SELECT $1::registry.usage[] $$;
CREATE FUNCTION investor.marketing_array(text[]) RETURNS registry.marketing[]
LANGUAGE sql STABLE STRICT SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$ SELECT $1::registry.marketing[] $$;
CREATE FUNCTION investor.object_type_array(text[]) RETURNS registry.object_type[]
LANGUAGE sql STABLE STRICT SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$ SELECT $1::registry.object_type[] $$;
CREATE FUNCTION investor.status_array(text[]) RETURNS registry.status[]
LANGUAGE sql STABLE STRICT SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$ SELECT $1::registry.status[] $$;
REVOKE ALL ON FUNCTION investor.site_kind_array(text[]), investor.usage_array(text[]),
	investor.marketing_array(text[]), investor.object_type_array(text[]),
	investor.status_array(text[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION investor.site_kind_array(text[]), investor.usage_array(text[]),
	investor.marketing_array(text[]), investor.object_type_array(text[]),
	investor.status_array(text[]) TO vacancyd_investor;

-- Versions of published records, in the investor view's terms.
CREATE VIEW investor.published_past AS
SELECT p.record_id, p.valid_from, p.valid_to, p.municipality_ags, p.municipality_ars,
	p.updated_at, p.site_kind, p.usage, p.marketing, p.object_type, p.status,
	p.usable_area_m2, p.plot_area_m2, p.purchase_price_eur, p.rent_eur_month,
	p.pub_geom AS geom, p.tsv
FROM registry.record_past p
WHERE p.published AND p.valid_to IS NOT NULL;

GRANT SELECT ON investor.published_past TO vacancyd_investor;
GRANT SELECT ON registry.record_past TO vacancyd_staff;

-- What staff export: the PUBLIC fields, exact, of every record (no personal
-- data, so no access log), in the Record's column names.
CREATE VIEW registry.public_record AS
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
	r.house_number,
	r.postcode,
	r.locality,
	r.gemarkung,
	r.flur,
	r.flurstueck,
	to_json(r.parcel_ids) AS parcel_ids,
	json_build_object('lat', ST_Y(r.geom), 'lon', ST_X(r.geom)) AS location,
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
	registry.rfc3339(r.withdrawn_at) AS withdrawn_at
FROM registry.record r;
GRANT SELECT ON registry.public_record TO vacancyd_staff;

-- Indexes for the filters 005 does not serve: the ARS prefix, plot area,
-- rent, the record types, and the staff side (unpublished records too).
CREATE INDEX record_pub_ars ON registry.record (municipality_ars) WHERE published;
CREATE INDEX record_pub_plot ON registry.record (plot_area_m2, record_id) WHERE published;
CREATE INDEX record_pub_area_desc ON registry.record (usable_area_m2 DESC NULLS LAST, record_id)
	WHERE published;
CREATE INDEX record_pub_rent ON registry.record (rent_eur_month) WHERE published;
CREATE INDEX record_pub_type ON registry.record (object_type, updated_at DESC) WHERE published;
CREATE INDEX record_pub_kind ON registry.record (site_kind, updated_at DESC) WHERE published;
CREATE INDEX record_pub_status ON registry.record (status, updated_at DESC) WHERE published;
CREATE INDEX record_pub_usage ON registry.record USING gin (usage) WHERE published;
CREATE INDEX record_pub_marketing ON registry.record USING gin (marketing) WHERE published;
CREATE INDEX record_ags_updated ON registry.record (municipality_ags, updated_at DESC, record_id);
CREATE INDEX record_ars ON registry.record (municipality_ars);
CREATE INDEX record_tsv ON registry.record USING gin (tsv);
