-- 005_search: what investor search, the change feed and the GIS export read.
--
-- registry.record carries, kept current by triggers whatever writes it:
--   published  record.md's publication rule (needs record_internal's fields)
--   pub_geom   the position investors see (blurred by location_blur_m)
--   tsv        German full-text vector of title and description
-- so that every investor filter is served by a partial index WHERE published.
-- Each feed row records whether the record was visible to investors before
-- and after that change: the investor feed carries the changes of visible
-- records and the withdrawal of records that stop being visible, and says
-- nothing of records investors never saw.

ALTER TABLE registry.record
	ADD COLUMN published boolean NOT NULL DEFAULT false,
	ADD COLUMN pub_geom geometry(Point, 4326),
	ADD COLUMN tsv tsvector GENERATED ALWAYS AS (to_tsvector('german',
		coalesce(title, '') || ' ' || coalesce(description, ''))) STORED;

-- published and pub_geom of a record row, from its internal row.
CREATE FUNCTION registry.record_visibility() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = registry, public, pg_temp AS $$
DECLARE
	i registry.record_internal%ROWTYPE;
BEGIN
	SELECT * INTO i FROM registry.record_internal WHERE record_id = NEW.record_id;
	IF NOT FOUND THEN
		NEW.published := false;
		NEW.pub_geom := NULL;
	ELSE
		NEW.published := registry.is_published(i.publication, NEW.status, i.owner_consent,
			i.owner_category, NEW.withdrawn_at);
		NEW.pub_geom := CASE WHEN NEW.published THEN registry.blur(NEW.geom, i.location_blur_m) END;
	END IF;
	RETURN NEW;
END
$$;
CREATE TRIGGER record_visibility BEFORE INSERT OR UPDATE ON registry.record
	FOR EACH ROW EXECUTE FUNCTION registry.record_visibility();

-- A change of the internal fields that decide visibility re-evaluates it.
CREATE FUNCTION registry.internal_visibility() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = registry, public, pg_temp AS $$
BEGIN
	UPDATE registry.record SET published = published WHERE record_id = NEW.record_id;
	RETURN NULL;
END
$$;
CREATE TRIGGER internal_visibility AFTER INSERT OR UPDATE OF publication, owner_consent,
	owner_category, location_blur_m ON registry.record_internal
	FOR EACH ROW EXECUTE FUNCTION registry.internal_visibility();

UPDATE registry.record SET published = published;

CREATE INDEX record_pub_geom ON registry.record USING gist (pub_geom) WHERE published;
CREATE INDEX record_pub_updated ON registry.record (updated_at DESC, record_id) WHERE published;
CREATE INDEX record_pub_ags ON registry.record (municipality_ags, updated_at DESC) WHERE published;
CREATE INDEX record_pub_area ON registry.record (usable_area_m2, record_id) WHERE published;
CREATE INDEX record_pub_price ON registry.record (purchase_price_eur, record_id) WHERE published;
CREATE INDEX record_pub_tsv ON registry.record USING gin (tsv) WHERE published;

-- The feed rows' visibility, set when they are written (after the writes of
-- their transfer, so published is current).
ALTER TABLE registry.feed
	ADD COLUMN visible boolean NOT NULL DEFAULT false,
	ADD COLUMN was_visible boolean NOT NULL DEFAULT false;

CREATE FUNCTION registry.feed_visibility() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = registry, public, pg_temp AS $$
BEGIN
	SELECT r.published INTO NEW.visible FROM registry.record r WHERE r.record_id = NEW.record_id;
	NEW.visible := coalesce(NEW.visible, false);
	SELECT f.visible INTO NEW.was_visible FROM registry.feed f
	WHERE f.record_id = NEW.record_id ORDER BY f.seq DESC LIMIT 1;
	NEW.was_visible := coalesce(NEW.was_visible, false);
	RETURN NEW;
END
$$;
CREATE TRIGGER feed_visibility BEFORE INSERT ON registry.feed
	FOR EACH ROW EXECUTE FUNCTION registry.feed_visibility();
CREATE INDEX feed_investor ON registry.feed (seq) WHERE visible OR was_visible;

-- The investor view, now over the maintained columns (same columns, same
-- order; _tsv added at the end), so that its filters use the indexes above.
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
	r.tsv AS _tsv
FROM registry.record r
JOIN registry.record_internal i USING (record_id)
WHERE r.published;
