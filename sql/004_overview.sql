-- 004_overview: the county's regional figures (docs/overview.md).
--
-- Plain SQL functions over the tables the staff role may read; no personal
-- data is touched. A region is an AGS prefix; it is turned into a range of
-- 8-digit keys so that the btree indexes on municipality_ags serve it
-- (LIKE 'prefix%' would not under a non-C collation).

CREATE INDEX history_ags_field ON registry.history (municipality_ags, field, record_id, changed_at);
CREATE INDEX transfer_ags ON registry.transfer (municipality_ags, received_at);

-- The first and last 8-digit key of a region prefix.
CREATE FUNCTION registry.region_lo(p text) RETURNS char(8)
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT rpad(p, 8, '0')::char(8) $$;
CREATE FUNCTION registry.region_hi(p text) RETURNS char(8)
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT rpad(p, 8, '9')::char(8) $$;

-- Today, where the registry's users live.
CREATE FUNCTION registry.today() RETURNS date
LANGUAGE sql STABLE PARALLEL SAFE AS $$ SELECT (now() AT TIME ZONE 'Europe/Berlin')::date $$;

-- When a record's vacancy began: vacant_since by its precision (MONTH: the
-- 15th, YEAR: 1 July, else the date), or else the first vacant status in
-- its history.
CREATE FUNCTION registry.vacancy_start(p_record uuid, p_since date,
	p_precision registry.date_precision) RETURNS date
LANGUAGE sql STABLE PARALLEL SAFE AS $$
	SELECT CASE
		WHEN p_since IS NULL THEN
			(SELECT min(h.changed_at AT TIME ZONE 'Europe/Berlin')::date
			 FROM registry.history h
			 WHERE h.record_id = p_record AND h.field = 'status'
			   AND h.new_value IN ('SUSPECTED', 'CONFIRMED', 'MARKETED', 'RESERVED'))
		WHEN p_precision = 'MONTH' THEN (date_trunc('month', p_since) + interval '14 days')::date
		WHEN p_precision = 'YEAR' THEN make_date(extract(year FROM p_since)::int, 7, 1)
		ELSE p_since END
$$;

-- Figures per group; the grouping keys not asked for are NULL. p_g1/p_g2
-- are among municipality, object_type, site_kind, status, usage (p_g2 may
-- be NULL). Rows come in key order.
CREATE FUNCTION registry.overview(p_region text, p_g1 text, p_g2 text, p_stale_days int)
RETURNS TABLE (municipality_ags text, object_type text, site_kind text, status text,
	usage text, records bigint, published bigint, stale bigint, usable_area_m2 float8,
	plot_area_m2 float8, median_vacancy_days float8, p90_vacancy_days float8,
	last_transfer_at text)
LANGUAGE sql STABLE AS $$
	WITH base AS (
		SELECT r.record_id, r.municipality_ags, r.object_type, r.site_kind, r.status,
			u.usage, r.usable_area_m2, r.plot_area_m2,
			registry.is_published(i.publication, r.status, i.owner_consent,
				i.owner_category, r.withdrawn_at) AS is_published,
			registry.today() - r.last_verified_at > p_stale_days AS is_stale,
			CASE WHEN r.status IN ('SUSPECTED', 'CONFIRMED', 'MARKETED', 'RESERVED') THEN
				registry.today() - registry.vacancy_start(r.record_id, r.vacant_since,
					r.vacant_since_precision) END AS vacancy_days
		FROM registry.record r
		JOIN registry.record_internal i USING (record_id)
		CROSS JOIN LATERAL unnest(CASE WHEN 'usage' IN (p_g1, p_g2) THEN r.usage
			ELSE ARRAY[NULL]::registry.usage[] END) AS u(usage)
		WHERE r.municipality_ags BETWEEN registry.region_lo(p_region)
			AND registry.region_hi(p_region)
		  AND r.withdrawn_at IS NULL
	), g AS (
		SELECT CASE WHEN 'municipality' IN (p_g1, p_g2) THEN b.municipality_ags END AS k_m,
			CASE WHEN 'object_type' IN (p_g1, p_g2) THEN b.object_type END AS k_o,
			CASE WHEN 'site_kind' IN (p_g1, p_g2) THEN b.site_kind END AS k_k,
			CASE WHEN 'status' IN (p_g1, p_g2) THEN b.status END AS k_s,
			b.usage AS k_u,
			count(*) AS records,
			count(*) FILTER (WHERE b.is_published) AS published,
			count(*) FILTER (WHERE b.is_stale) AS stale,
			coalesce(sum(b.usable_area_m2), 0) AS usable_area_m2,
			coalesce(sum(b.plot_area_m2), 0) AS plot_area_m2,
			percentile_cont(0.5) WITHIN GROUP (ORDER BY b.vacancy_days)
				FILTER (WHERE b.vacancy_days IS NOT NULL) AS median_vacancy_days,
			percentile_cont(0.9) WITHIN GROUP (ORDER BY b.vacancy_days)
				FILTER (WHERE b.vacancy_days IS NOT NULL) AS p90_vacancy_days
		FROM base b
		GROUP BY 1, 2, 3, 4, 5
	)
	SELECT g.k_m::text, g.k_o::text, g.k_k::text, g.k_s::text, g.k_u::text, g.records,
		g.published, g.stale, g.usable_area_m2, g.plot_area_m2, g.median_vacancy_days,
		g.p90_vacancy_days,
		CASE WHEN g.k_m IS NOT NULL THEN
			(SELECT registry.rfc3339(max(t.received_at)) FROM registry.transfer t
			 WHERE t.municipality_ags = g.k_m) END
	FROM g
	ORDER BY g.k_m, g.k_o, g.k_k, g.k_s, g.k_u
$$;

-- The vacant sites of a region and their usable area at the end of each
-- month from p_from to p_to (Europe/Berlin), reconstructed from the
-- field-level history: each value is in effect from its change until the
-- next change of the same field.
CREATE FUNCTION registry.vacancy_series(p_region text, p_from date, p_to date)
RETURNS TABLE (month text, vacant bigint, usable_area_m2 float8)
LANGUAGE sql STABLE AS $$
	WITH months AS (
		SELECT m::date AS month,
			(m + interval '1 month') AT TIME ZONE 'Europe/Berlin' AS t_end
		FROM generate_series(date_trunc('month', p_from::timestamp),
			date_trunc('month', p_to::timestamp), interval '1 month') AS m
	), h AS (
		SELECT h.record_id, h.field, h.changed_at,
			CASE WHEN h.field = '(created)' THEN h.new_value::jsonb->>'usable_area_m2'
				ELSE h.new_value END AS v,
			lead(h.changed_at) OVER (PARTITION BY h.record_id,
				CASE WHEN h.field = '(created)' THEN 'usable_area_m2' ELSE h.field END
				ORDER BY h.changed_at, h.history_id) AS until
		FROM registry.history h
		WHERE h.municipality_ags BETWEEN registry.region_lo(p_region)
			AND registry.region_hi(p_region)
		  AND (h.field IN ('status', 'withdrawn_at', 'usable_area_m2')
		       OR (h.field = '(created)' AND h.tier = 'INTERNAL'))
	), vacant AS (
		SELECT m.month, m.t_end, s.record_id
		FROM months m
		JOIN h s ON s.field = 'status' AND s.changed_at < m.t_end
			AND (s.until IS NULL OR s.until >= m.t_end)
			AND s.v IN ('SUSPECTED', 'CONFIRMED', 'MARKETED', 'RESERVED')
		WHERE NOT EXISTS (
			SELECT 1 FROM h w
			WHERE w.record_id = s.record_id AND w.field = 'withdrawn_at'
			  AND w.changed_at < m.t_end AND (w.until IS NULL OR w.until >= m.t_end)
			  AND w.v IS NOT NULL)
	)
	SELECT to_char(m.month, 'YYYY-MM'), count(v.record_id),
		coalesce(sum(a.v::float8), 0)
	FROM months m
	LEFT JOIN vacant v ON v.month = m.month
	LEFT JOIN h a ON a.record_id = v.record_id
		AND a.field IN ('usable_area_m2', '(created)') AND a.changed_at < m.t_end
		AND (a.until IS NULL OR a.until >= m.t_end)
	GROUP BY m.month
	ORDER BY m.month
$$;

-- Every municipality of a region with its records, its last accepted
-- transfer and whether it is overdue.
CREATE FUNCTION registry.municipality_list(p_region text, p_overdue_days int)
RETURNS TABLE (municipality_ags text, name text, records bigint, last_transfer_at text,
	overdue boolean)
LANGUAGE sql STABLE AS $$
	SELECT m.ags::text, m.name, coalesce(c.n, 0), registry.rfc3339(t.last),
		t.last IS NULL OR t.last < now() - make_interval(days => p_overdue_days)
	FROM registry.municipality m
	LEFT JOIN (SELECT r.municipality_ags, count(*) AS n FROM registry.record r
		   WHERE r.withdrawn_at IS NULL
		     AND r.municipality_ags BETWEEN registry.region_lo(p_region)
			AND registry.region_hi(p_region)
		   GROUP BY 1) c ON c.municipality_ags = m.ags
	LEFT JOIN (SELECT t.municipality_ags, max(t.received_at) AS last FROM registry.transfer t
		   WHERE t.municipality_ags BETWEEN registry.region_lo(p_region)
			AND registry.region_hi(p_region)
		   GROUP BY 1) t ON t.municipality_ags = m.ags
	WHERE m.ags BETWEEN registry.region_lo(p_region) AND registry.region_hi(p_region)
	ORDER BY m.ags
$$;

GRANT EXECUTE ON FUNCTION registry.region_lo(text), registry.region_hi(text), registry.today(),
	registry.vacancy_start(uuid, date, registry.date_precision),
	registry.overview(text, text, text, int), registry.vacancy_series(text, date, date),
	registry.municipality_list(text, int)
	TO vacancyd_staff;
