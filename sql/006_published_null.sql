-- 006_published_null: record.md's publication rule is two-valued.
--
-- registry.is_published() returned NULL, not false, for a record whose
-- owner_category is absent and whose consent is neither CONSENTED nor
-- NO_OBJECTION (false OR NULL). Views filtering on it were right (NULL is
-- not true), but the published column of 005 is NOT NULL, so such a sync
-- failed. Absent values now count as "not allowed".
CREATE OR REPLACE FUNCTION registry.is_published(p registry.publication, s registry.status,
	c registry.owner_consent, oc registry.owner_category, withdrawn timestamptz)
RETURNS boolean LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
	SELECT coalesce(p = 'PUBLIC', false)
		AND coalesce(s IN ('MARKETED', 'RESERVED'), false)
		AND withdrawn IS NULL
		AND coalesce(c <> 'OBJECTED', false)
		AND (coalesce(c IN ('CONSENTED', 'NO_OBJECTION'), false)
		     OR coalesce(oc IN ('BUSINESS', 'PUBLIC', 'MUNICIPAL'), false))
$$;

UPDATE registry.record SET published = published;
