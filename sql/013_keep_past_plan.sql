-- 013_keep_past_plan: keep superseded versions with a hashed subplan.
--
-- As in 011, the transition table has no statistics: the planner expected one
-- old row and checked "no open version of this record yet" (NOT EXISTS) by
-- scanning every open version once per old row, with the record as a join
-- filter instead of an index condition. On a 10,000-record update transfer
-- that was 100 million comparisons, 4.7 s of 7.1 s (auto_explain with
-- log_analyze). Turning nested loops off did not always help: the lateral
-- lookup below forces one, and the planner then kept the anti join inside
-- it. NOT IN over this transaction's open versions is one hashed subplan
-- whatever the estimates (record_id is never null).
CREATE OR REPLACE FUNCTION registry.record_keep_past() RETURNS trigger
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
	WHERE o.record_id NOT IN (SELECT p.record_id FROM registry.record_past p
				  WHERE p.valid_to IS NULL AND p.txid = txid_current());
	RETURN NULL;
END
$$;
