-- demo.sql: demonstration data for `make run`: 48 synthetic vacant sites in
-- twelve towns of the Erzgebirgskreis (real AGS codes, see
-- 002_municipalities.sql; real town centres and postcodes; invented sites,
-- invented owners, no real personal data). Deterministic: record ids are
-- md5('vacancyd-demo-N') as UUIDs, so the same N always gives the same record.
-- Loaded by deploy/devenv.sh into an empty registry.
BEGIN;

CREATE TEMP TABLE demo_town (n int, ags char(8), town text, postcode char(5), lat float8, lon float8, street text[])
ON COMMIT DROP;
INSERT INTO demo_town VALUES
	(0, '14521020', 'Annaberg-Buchholz', '09456', 50.5797, 13.0061, '{Buchholzer Straße,Große Kirchgasse,Markt,Wolkensteiner Straße}'),
	(1, '14521035', 'Aue-Bad Schlema', '08280', 50.5866, 12.7006, '{Bahnhofstraße,Wettinerstraße,Schwarzenberger Straße,Altmarkt}'),
	(2, '14521390', 'Marienberg', '09496', 50.6510, 13.1628, '{Markt,Zschopauer Straße,Freiberger Straße,Annaberger Straße}'),
	(3, '14521550', 'Schwarzenberg', '08340', 50.5453, 12.7791, '{Obere Schloßstraße,Karlsbader Straße,Grünhainer Straße,Bahnhofstraße}'),
	(4, '14521590', 'Stollberg', '09366', 50.7083, 12.7783, '{Hauptmarkt,Herrenstraße,Chemnitzer Straße,Zwönitzer Straße}'),
	(5, '14521690', 'Zschopau', '09405', 50.7486, 13.0703, '{Neumarkt,Altmarkt,Waldkirchener Straße,Bahnhofstraße}'),
	(6, '14521460', 'Olbernhau', '09526', 50.6597, 13.3386, '{Grünthaler Straße,Markt,Freiberger Straße,Rungestraße}'),
	(7, '14521440', 'Oberwiesenthal', '09484', 50.4194, 12.9697, '{Karlsbader Straße,Annaberger Straße,Vierenstraße,Markt}'),
	(8, '14521530', 'Schneeberg', '08289', 50.5944, 12.6417, '{Markt,Fürstenplatz,Karlsbader Straße,Auer Straße}'),
	(9, '14521620', 'Thalheim', '09380', 50.7000, 12.8500, '{Hauptstraße,Stollberger Straße,Chemnitzer Straße,Albertstraße}'),
	(10, '14521710', 'Zwönitz', '08297', 50.6306, 12.8100, '{Markt,Annaberger Straße,Hohe Straße,Bahnhofstraße}'),
	(11, '14521170', 'Eibenstock', '08309', 50.4947, 12.5986, '{Postplatz,Schönheider Straße,Auerbacher Straße,Karlsbader Straße}');

-- What each of the four sites of a town is, by k = n % 4.
CREATE TEMP TABLE demo_kind (k int, site_kind registry.site_kind, object_type registry.object_type,
	usage registry.usage[], marketing registry.marketing[], title text, description text)
ON COMMIT DROP;
INSERT INTO demo_kind VALUES
	(0, 'UNIT', 'RETAIL', '{COMMERCIAL}', '{RENT}', 'Ladenlokal in zentraler Lage',
	 'Ebenerdiges Ladengeschäft mit großer Schaufensterfront, WC und Lagerraum; zuletzt Textileinzelhandel.'),
	(1, 'BUILDING', 'HOUSE', '{RESIDENTIAL,COMMERCIAL}', '{SALE}', 'Wohn- und Geschäftshaus',
	 'Dreigeschossiges Wohn- und Geschäftshaus der Gründerzeit, Laden im Erdgeschoss, vier Wohnungen, Sanierungsbedarf.'),
	(2, 'PLOT', 'PLOT', '{MIXED}', '{SALE,LEASEHOLD}', 'Baulücke in Innerortslage',
	 'Voll erschlossene Baulücke zwischen Bestandsbebauung, bebaubar nach § 34 BauGB.'),
	(3, 'BROWNFIELD', 'HALL_STORAGE_PRODUCTION', '{INDUSTRIAL}', '{SALE,RENT}', 'Gewerbebrache mit Halle',
	 'Ehemaliger Produktionsstandort mit Halle (Stahlbau), Verwaltungstrakt und befestigter Freifläche; Gleisanschluss stillgelegt.');

INSERT INTO registry.record (record_id, municipality_ags, updated_at, last_verified_at, site_kind,
	usage, marketing, object_type, status, vacancy_degree, vacant_since, vacant_since_precision,
	condition, construction_year, development, planning_basis, contamination, street,
	house_number, postcode, locality, gemarkung, flur, flurstueck, parcel_ids, geom,
	usable_area_m2, floor_area_m2, sales_area_m2, plot_area_m2, divisible_from_m2,
	purchase_price_eur, rent_eur_month, rent_eur_m2, price_on_request, title, description,
	location_text, marketing_contact, attachments)
SELECT md5('vacancyd-demo-' || s.n)::uuid,
	t.ags,
	now() - make_interval(days => s.n * 3),
	(date '2026-10-01' - (s.n * 11 % 500))::date,
	k.site_kind, k.usage, k.marketing, k.object_type,
	(ARRAY['MARKETED','MARKETED','MARKETED','RESERVED','CONFIRMED','SUSPECTED','MARKETED','REUSED']::registry.status[])[s.n % 8 + 1],
	CASE WHEN k.k = 1 THEN 'PARTIAL'::registry.vacancy_degree ELSE 'COMPLETE' END,
	(date '2025-06-01' - (s.n * 97 % 3000))::date,
	(ARRAY['DAY','MONTH','YEAR','ESTIMATE']::registry.date_precision[])[s.n % 4 + 1],
	(ARRAY['WELL_KEPT','NEEDS_REFURBISHMENT','MODERNISED','DILAPIDATED']::registry.condition[])[s.n % 4 + 1],
	CASE WHEN k.k = 2 THEN NULL ELSE 1880 + (s.n * 7 % 120) END,
	'FULL', CASE WHEN k.k = 3 THEN 'BPLAN'::registry.planning_basis ELSE 'S34' END,
	CASE WHEN k.k = 3 THEN 'SUSPECTED'::registry.contamination ELSE 'NONE_KNOWN' END,
	t.street[k.k + 1], (1 + s.n * 5 % 60)::text, t.postcode, t.town,
	t.town, (1 + s.n % 9)::text, (100 + s.n * 13 % 800)::text || '/' || (1 + s.n % 4)::text,
	ARRAY['14' || lpad((4000 + s.n)::text, 4, '0') || lpad((1 + s.n % 9)::text, 3, '0') ||
	      lpad((100 + s.n * 13 % 800)::text, 5, '0') || lpad((1 + s.n % 4)::text, 4, '0') || '__'],
	ST_SetSRID(ST_MakePoint(t.lon + 0.012 * cos(s.n * 1.7), t.lat + 0.008 * sin(s.n * 2.3)), 4326),
	CASE k.k WHEN 0 THEN 60 + s.n * 7 % 240 WHEN 1 THEN 280 + s.n * 13 % 400 WHEN 3 THEN 1200 + s.n * 97 % 8000 END,
	CASE k.k WHEN 1 THEN 420 + s.n * 17 % 500 WHEN 3 THEN 1500 + s.n * 97 % 9000 END,
	CASE k.k WHEN 0 THEN 50 + s.n * 7 % 200 END,
	CASE k.k WHEN 1 THEN 300 + s.n * 11 % 600 WHEN 2 THEN 450 + s.n * 31 % 1200 WHEN 3 THEN 8000 + s.n * 389 % 40000 END,
	CASE k.k WHEN 3 THEN 500 END,
	CASE WHEN 'SALE' = ANY (k.marketing) AND s.n % 5 <> 0 THEN (15000 + s.n * 4321 % 400000)::numeric END,
	CASE WHEN 'RENT' = ANY (k.marketing) THEN (350 + s.n * 37 % 2500)::numeric + 0.50 END,
	CASE WHEN 'RENT' = ANY (k.marketing) THEN 4.50 + (s.n % 6) END,
	'SALE' = ANY (k.marketing) AND s.n % 5 = 0,
	k.title || ', ' || t.town, k.description,
	'Innerorts in ' || t.town || ', Einkaufs- und Verwaltungseinrichtungen fußläufig, ÖPNV in der Nähe.',
	jsonb_build_object('organisation', 'Wirtschaftsförderung Erzgebirge GmbH', 'personRole', 'Standortberatung',
		'phone', '+49 3733 145 0', 'email', 'standort@example.org'),
	jsonb_build_array(jsonb_build_object('group', 'PHOTO', 'mediaType', 'image/jpeg',
		'sha256', encode(sha256(convert_to('photo-' || s.n, 'UTF8')), 'hex'),
		'url', 'https://example.org/demo/' || s.n || '.jpg', 'licence', 'CC-BY-4.0'))
FROM generate_series(0, 47) AS s(n)
JOIN demo_town t ON t.n = s.n / 4
JOIN demo_kind k ON k.k = s.n % 4;

INSERT INTO registry.record_internal (record_id, municipality_ags, external_id, revision,
	publication, owner_consent, owner_consent_date, source_x, source_y, source_crs,
	location_blur_m, owner_category, internal_notes)
SELECT r.record_id, r.municipality_ags, 'LS-' || lpad(s.n::text, 4, '0'), 1 + s.n % 3,
	CASE WHEN s.n % 6 = 5 THEN 'INTERNAL'::registry.publication ELSE 'PUBLIC' END,
	(ARRAY['CONSENTED','NO_OBJECTION','NOTICE_PUBLISHED','CONSENTED','OBJECTED','UNKNOWN']::registry.owner_consent[])[s.n % 6 + 1],
	(date '2026-03-01' + s.n)::date,
	NULL, NULL, NULL,
	CASE WHEN s.n % 4 = 1 THEN 150 ELSE 0 END,
	(ARRAY['PRIVATE','BUSINESS','MUNICIPAL','PRIVATE','PUBLIC']::registry.owner_category[])[s.n % 5 + 1],
	'Interne Notiz ' || s.n || ': Begehung durch das Bauamt vereinbart.'
FROM generate_series(0, 47) AS s(n)
JOIN registry.record r ON r.record_id = md5('vacancyd-demo-' || s.n)::uuid;

INSERT INTO registry.record_personal (record_id, vacancy_reason, owner_name, owner_address,
	owner_phone, owner_email, owner_willingness, attachment_rights_holders)
SELECT md5('vacancyd-demo-' || s.n)::uuid,
	(ARRAY['PRICE_EXPECTATION','HEIRS_DISPUTE','REFURBISHMENT_NEEDED','MARKETING_FAILED','NO_INTEREST','OTHER']::registry.vacancy_reason[])[s.n % 6 + 1],
	'Eigentümer Nr. ' || s.n || ' (fiktiv)', 'Musterweg ' || s.n || ', 00000 Nirgendwo (fiktiv)',
	'+49 000 ' || lpad(s.n::text, 6, '0'), 'eigentuemer' || s.n || '@example.invalid',
	(ARRAY['SELL','LET','UNDECIDED','UNKNOWN','NONE']::registry.owner_willingness[])[s.n % 5 + 1],
	ARRAY['Fotograf Nr. ' || s.n || ' (fiktiv)']
FROM generate_series(0, 47) AS s(n);

COMMIT;
