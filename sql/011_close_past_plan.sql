-- 011_close_past_plan: close the kept versions of a transfer with a hash join.
--
-- The transition table of the feed rows has no statistics, nor have fresh
-- versions in registry.record_past, so the planner expected two rows on
-- each side and joined 10,000 feed rows to 10,000 open versions in a
-- nested loop: 100 million comparisons, 6 s of a 10,000-record update
-- transfer. Without nested loops the join is one hash join.
CREATE OR REPLACE FUNCTION registry.record_close_past() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = registry, public, pg_temp
SET enable_nestloop = off AS $$
BEGIN
	UPDATE registry.record_past p SET valid_to = n.seq
	FROM (SELECT record_id, min(seq) AS seq FROM new_rows GROUP BY record_id) n
	WHERE p.record_id = n.record_id AND p.valid_to IS NULL AND p.txid = txid_current();
	DELETE FROM registry.record_past WHERE past_at < now() - interval '25 hours';
	RETURN NULL;
END
$$;
