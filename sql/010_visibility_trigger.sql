-- 010_visibility_trigger: re-evaluate a record's visibility only when a field
-- that decides it changes.
--
-- 005's trigger fired for every UPDATE naming those columns, and sync's
-- update names them all, so every updated record cost one extra UPDATE of
-- registry.record; since 009 each such UPDATE also runs the statement
-- trigger that keeps superseded versions, and a 10,000-record update
-- transfer took 21 s instead of 3. The values decide, not the column list.
DROP TRIGGER internal_visibility ON registry.record_internal;
CREATE TRIGGER internal_visibility_insert AFTER INSERT ON registry.record_internal
	FOR EACH ROW EXECUTE FUNCTION registry.internal_visibility();
CREATE TRIGGER internal_visibility AFTER UPDATE OF publication, owner_consent,
	owner_category, location_blur_m ON registry.record_internal
	FOR EACH ROW
	WHEN (OLD.publication IS DISTINCT FROM NEW.publication
	      OR OLD.owner_consent IS DISTINCT FROM NEW.owner_consent
	      OR OLD.owner_category IS DISTINCT FROM NEW.owner_category
	      OR OLD.location_blur_m IS DISTINCT FROM NEW.location_blur_m)
	EXECUTE FUNCTION registry.internal_visibility();
