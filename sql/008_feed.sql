-- 008_feed: the change feed investors may read.
--
-- investor.changes lists the feed rows of records that were visible to
-- investors before or after the change (005), nothing more: which record
-- changed, in commit order (seq, see 003). The daemon joins the current
-- public form from investor.published_record: a visible record is an
-- UPSERT with its record now, any other a WITHDRAW; replaying the feed from
-- the start leaves exactly the published records.
CREATE VIEW investor.changes AS
SELECT f.seq, f.record_id
FROM registry.feed f
WHERE f.visible OR f.was_visible;

GRANT SELECT ON investor.changes TO vacancyd_investor;
