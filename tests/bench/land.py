#!/usr/bin/env python3
"""land.py: a deterministic Land-sized set of synthetic vacant sites (Saxony).

Usage: land.py N OUTDIR [SEED]

Writes
  OUTDIR/municipalities.tsv  ags, ars, kreis, records, name (one line each,
                             sorted by AGS; no header)
  OUTDIR/kreise.tsv          kreis, kind (Stadt/Landkreis), municipalities,
                             records, name
  OUTDIR/csv/<AGS>.csv       the municipality's records as a sync CSV
                             (clients/examples/README.md), every field of
                             shared/spec/record.md filled where it fits

The set: the 13 Kreise of Saxony with their real keys (the three
kreisfreie Städte Chemnitz, Dresden and Leipzig are one municipality each),
min(N, 2000) municipalities with synthetic Gemeinde numbers, ARS with
Gemeindeverband (Einheitsgemeinden and Verwaltungsgemeinschaften) and names;
the other 1,997 spread over the ten Landkreise in the proportion of their
real municipality counts. Sizes follow Zipf (weight 1/rank): the cities take
ranks 1 to 3, the rest are shuffled, every municipality has at least one
record. Positions scatter around each municipality's centre, which lies in
its Kreis's approximate bounding box. Owners are invented (no real personal
data). The same N and SEED always give the same files, whatever the clock:
dates count back from a fixed day (BASE).
"""
import csv
import datetime
import hashlib
import json
import math
import os
import random
import sys

BASE = datetime.date(2026, 9, 30)
MUNICIPALITIES = 2000

# key, name, kind, real municipality count, bbox (lat0, lon0, lat1, lon1), postcode prefixes
KREISE = [
    ("14511", "Chemnitz", "Stadt", 1, (50.76, 12.80, 50.91, 13.05), ["091"]),
    ("14521", "Erzgebirgskreis", "Landkreis", 59, (50.40, 12.50, 50.85, 13.55), ["093", "094", "095"]),
    ("14522", "Mittelsachsen", "Landkreis", 52, (50.70, 12.65, 51.30, 13.70), ["096", "097", "046"]),
    ("14523", "Vogtlandkreis", "Landkreis", 39, (50.17, 11.90, 50.68, 12.65), ["082", "083", "085", "086"]),
    ("14524", "Zwickau", "Landkreis", 31, (50.55, 12.25, 50.93, 12.80), ["080", "081", "083", "084"]),
    ("14612", "Dresden", "Stadt", 1, (50.97, 13.58, 51.18, 13.97), ["010", "011"]),
    ("14625", "Bautzen", "Landkreis", 57, (51.05, 13.75, 51.58, 14.70), ["019", "026", "029"]),
    ("14626", "Görlitz", "Landkreis", 53, (50.83, 14.45, 51.55, 15.04), ["027", "028", "029"]),
    ("14627", "Meißen", "Landkreis", 28, (51.05, 13.10, 51.52, 13.90), ["016", "014", "015"]),
    ("14628", "Sächsische Schweiz-Osterzgebirge", "Landkreis", 36,
     (50.70, 13.45, 51.05, 14.40), ["017", "018"]),
    ("14713", "Leipzig", "Stadt", 1, (51.24, 12.24, 51.45, 12.54), ["041", "043", "042"]),
    ("14729", "Landkreis Leipzig", "Landkreis", 30, (51.00, 12.15, 51.45, 12.95), ["044", "045", "046"]),
    ("14730", "Nordsachsen", "Landkreis", 30, (51.30, 12.15, 51.72, 13.30), ["048", "049", "045"]),
]
CITY_AGS = {"14713": "14713000", "14612": "14612000", "14511": "14511000"}  # rank 1, 2, 3

PRE = ["Ober", "Nieder", "Groß", "Klein", "Neu", "Alt", "Hohen", "Lichten", "Rosen", "Wald",
       "Mittel", "Kirch", "Berg", "Stein", "Frieders", "Bernhards", "Hermanns", "Königs"]
STEM = ["dorf", "bach", "hain", "witz", "au", "grün", "walde", "berg", "stein", "tal",
        "ritz", "litz", "feld", "thal", "hausen", "brunn", "wiese"]

# weight, site_kind, object_type, usages, marketings, title stem, median usable area
KINDS = [
    (18, "UNIT", "RETAIL", ["COMMERCIAL", "MIXED"], ["RENT", "SALE|RENT"], "Ladenlokal", 110),
    (10, "UNIT", "OFFICE_PRACTICE", ["COMMERCIAL"], ["RENT"], "Büro- und Praxisfläche", 160),
    (6, "UNIT", "APARTMENT", ["RESIDENTIAL"], ["RENT", "SALE"], "Wohnung", 70),
    (16, "BUILDING", "HOUSE", ["RESIDENTIAL", "RESIDENTIAL|COMMERCIAL", "MIXED"], ["SALE"],
     "Wohn- und Geschäftshaus", 320),
    (5, "BUILDING", "HOSPITALITY", ["COMMERCIAL"], ["SALE", "SALE|RENT"], "Gasthof", 450),
    (7, "BUILDING", "HALL_STORAGE_PRODUCTION", ["INDUSTRIAL", "COMMERCIAL|INDUSTRIAL"],
     ["SALE|RENT", "RENT"], "Gewerbehalle", 1200),
    (3, "BUILDING", "AGRICULTURE_FORESTRY", ["AGRICULTURAL"], ["SALE", "LEASE"],
     "Vierseithof", 600),
    (2, "BUILDING", "INVESTMENT", ["RESIDENTIAL|COMMERCIAL"], ["SALE"], "Mehrfamilienhaus", 900),
    (2, "BUILDING", "LEISURE_COMMERCIAL", ["COMMERCIAL"], ["SALE|RENT"], "Kino und Saal", 700),
    (2, "BUILDING", "OTHER", ["MIXED"], ["SALE"], "ehemalige Schule", 1500),
    (14, "PLOT", "PLOT", ["RESIDENTIAL", "MIXED", "COMMERCIAL"], ["SALE", "SALE|LEASEHOLD"],
     "Baulücke", 0),
    (2, "PLOT", "PARKING", ["COMMERCIAL"], ["RENT", "SALE"], "Parkplatzfläche", 0),
    (8, "BROWNFIELD", "HALL_STORAGE_PRODUCTION", ["INDUSTRIAL"], ["SALE", "SALE|RENT"],
     "Gewerbebrache", 2500),
    (3, "BROWNFIELD", "AGRICULTURE_FORESTRY", ["AGRICULTURAL"], ["SALE", "LEASE"],
     "Stallanlage (Brache)", 1800),
    (2, "BROWNFIELD", "OTHER", ["MIXED", "INDUSTRIAL"], ["SALE"], "Bahnbrache", 0),
]
KIND_CUM = []
_acc = 0
for _k in KINDS:
    _acc += _k[0]
    KIND_CUM.append(_acc)

STATUS = [("SUSPECTED", 12), ("CONFIRMED", 23), ("MARKETED", 40), ("RESERVED", 7),
          ("REUSED", 10), ("WITHDRAWN", 4), ("DEMOLISHED", 4)]
CONSENT = [("CONSENTED", 25), ("NO_OBJECTION", 30), ("NOTICE_PUBLISHED", 15),
           ("UNKNOWN", 22), ("OBJECTED", 8)]
OWNER = [("PRIVATE", 50), ("BUSINESS", 22), ("PUBLIC", 6), ("MUNICIPAL", 12), ("UNKNOWN", 10)]
REASON = ["PRICE_EXPECTATION", "HEIRS_DISPUTE", "REFURBISHMENT_NEEDED", "MARKETING_FAILED",
          "NO_INTEREST", "OTHER"]
CONDITION_BLD = ["MODERNISED", "REFURBISHED", "WELL_KEPT", "NEEDS_REFURBISHMENT",
                 "NEEDS_REFURBISHMENT", "DILAPIDATED", "GUTTED", "SHELL", "AS_NEW",
                 "DEMOLITION_OBJECT"]
STREETS = ["Markt", "Bahnhofstraße", "Hauptstraße", "Schulstraße", "Gartenstraße",
           "Lindenstraße", "Am Anger", "Mühlgasse", "Kirchplatz", "Poststraße", "Dorfstraße",
           "Chemnitzer Straße", "Dresdner Straße", "Leipziger Straße", "Feldweg",
           "Industriestraße", "Gewerbering", "Am Bahnhof", "Talstraße", "Bergstraße",
           "Rosa-Luxemburg-Straße", "August-Bebel-Straße", "Karl-Marx-Straße", "Goethestraße"]
FIRST = ["Anna", "Bernd", "Claudia", "Dieter", "Erika", "Frank", "Gudrun", "Heiko", "Ines",
         "Jens", "Karin", "Lutz", "Monika", "Nico", "Petra", "Ralf", "Sabine", "Uwe"]
LAST = ["Beispiel", "Muster", "Platzhalter", "Probe", "Exempel", "Fiktiv", "Vorlage", "Schema"]
COLUMNS = [
    "action", "municipality_ags", "municipality_ars", "external_id", "revision",
    "last_verified_at", "publication", "owner_consent", "owner_consent_date", "site_kind",
    "usage", "marketing", "object_type", "status", "vacancy_degree", "vacant_since",
    "vacant_since_precision", "vacancy_reason", "condition", "construction_year",
    "development", "planning_basis", "bplan_ref", "contamination", "street", "house_number",
    "postcode", "locality", "gemarkung", "flur", "flurstueck", "parcel_ids", "location.lat",
    "location.lon", "source_x", "source_y", "source_crs", "location_blur_m",
    "usable_area_m2", "floor_area_m2", "sales_area_m2", "plot_area_m2", "divisible_from_m2",
    "purchase_price_eur", "rent_eur_month", "rent_eur_m2", "price_on_request", "title",
    "description", "location_text", "marketing_contact.organisation",
    "marketing_contact.person_role", "marketing_contact.phone", "marketing_contact.email",
    "attachments", "owner_category", "owner_name", "owner_address", "owner_phone",
    "owner_email", "owner_willingness", "internal_notes",
]


def pick(rnd, weighted):
    x = rnd.random() * sum(w for _, w in weighted)
    for v, w in weighted:
        x -= w
        if x < 0:
            return v
    return weighted[-1][0]


def utm33(lat, lon):
    """ETRS89 / UTM zone 33N (EPSG:25833) easting, northing (Krüger series)."""
    a, f, k0 = 6378137.0, 1 / 298.257222101, 0.9996
    n = f / (2 - f)
    big_a = a / (1 + n) * (1 + n * n / 4 + n ** 4 / 64)
    alpha = [n / 2 - 2 * n * n / 3 + 5 * n ** 3 / 16, 13 * n * n / 48 - 3 * n ** 3 / 5,
             61 * n ** 3 / 240]
    phi, lam = math.radians(lat), math.radians(lon - 15.0)
    c = 2 * math.sqrt(n) / (1 + n)
    t = math.sinh(math.atanh(math.sin(phi)) - c * math.atanh(c * math.sin(phi)))
    xi = math.atan2(t, math.cos(lam))
    eta = math.atanh(math.sin(lam) / math.sqrt(1 + t * t))
    e = eta + sum(al * math.cos(2 * j * xi) * math.sinh(2 * j * eta)
                  for j, al in enumerate(alpha, 1))
    nn = xi + sum(al * math.sin(2 * j * xi) * math.cosh(2 * j * eta)
                  for j, al in enumerate(alpha, 1))
    return 500000 + k0 * big_a * e, k0 * big_a * nn


def municipalities(n, seed):
    """[(ags, ars, kreis, size, name, centre, spread_km, postcodes)], sorted by AGS."""
    rnd = random.Random(f"{seed}:municipalities")
    m = min(MUNICIPALITIES, n)
    landkreise = [k for k in KREISE if k[2] == "Landkreis"]
    rest = m - len(CITY_AGS)
    real = sum(k[3] for k in landkreise)
    counts = {k[0]: max(1, round(rest * k[3] / real)) for k in landkreise}
    counts[landkreise[0][0]] += rest - sum(counts.values())
    kreis_of = {k[0]: k for k in KREISE}
    out = []
    for key, cnt in counts.items():
        k = kreis_of[key]
        numbers = sorted(rnd.sample(range(1, 1000), cnt))
        vg, vg_left = 0, 0
        for g in numbers:
            if vg_left == 0 and rnd.random() < 0.3:  # a new Verwaltungsgemeinschaft
                vg, vg_left = vg + 1, rnd.randint(2, 4)
            if vg_left > 0:
                verband, vg_left = f"5{vg:03d}", vg_left - 1
            else:
                verband = f"0{g:03d}"
            name = rnd.choice(PRE) + rnd.choice(STEM)
            lat0, lon0, lat1, lon1 = k[4]
            centre = (rnd.uniform(lat0, lat1), rnd.uniform(lon0, lon1))
            pc = rnd.choice(k[5]) + f"{rnd.randint(0, 99):02d}"
            out.append([f"{key}{g:03d}", f"{key}{verband}{g:03d}", key, 0, name, centre, 0, [pc]])
    for key, ags in CITY_AGS.items():
        k = kreis_of[key]
        lat0, lon0, lat1, lon1 = k[4]
        pcs = [p + f"{d:02d}" for p in k[5] for d in range(5, 100, 12)]
        out.append([ags, f"{key}0000000", key, 0, k[1] + ", Stadt",
                    ((lat0 + lat1) / 2, (lon0 + lon1) / 2), -1, pcs])
    # sizes: Zipf, cities first, the rest in a seeded shuffle
    cities = [x for x in out if x[0] in CITY_AGS.values()]
    cities.sort(key=lambda x: list(CITY_AGS.values()).index(x[0]))
    others = [x for x in out if x[0] not in CITY_AGS.values()]
    others.sort(key=lambda x: x[0])
    rnd.shuffle(others)
    ranked = cities + others
    w = [1 / (i + 1) for i in range(len(ranked))]
    total, extra = sum(w), n - len(ranked)  # one record each, the rest by weight
    sizes = [1 + int(extra * x / total) for x in w]
    sizes[0] += n - sum(sizes)
    for x, s in zip(ranked, sizes):
        x[3] = s
        if x[6] == 0:  # spread of a town grows with its stock, 0.7 to 6 km
            x[6] = min(6.0, 0.7 + 0.35 * math.sqrt(s / 20))
    out.sort(key=lambda x: x[0])
    return out


def clamp(v, lo, hi):
    return lo if v < lo else hi if v > hi else v


def money(v):
    return f"{v:.2f}"


def iso(d):
    return d.isoformat()


def record(rnd, mun, kreis, i):
    ags, ars, key, _, name, centre, spread, pcs = mun
    kind = KINDS[_pick_kind(rnd)]
    _, site_kind, otype, usages, marketings, stem, med_area = kind
    status = pick(rnd, STATUS)
    consent = pick(rnd, CONSENT)
    owner = pick(rnd, OWNER)
    usage = rnd.choice(usages)
    marketing = rnd.choice(marketings) if rnd.random() < 0.9 else ""
    building = site_kind in ("BUILDING", "UNIT")
    # position: around the centre (cities: over their area)
    if spread < 0:
        lat0, lon0, lat1, lon1 = kreis[4]
        lat = clamp(rnd.gauss(centre[0], (lat1 - lat0) / 5), lat0, lat1)
        lon = clamp(rnd.gauss(centre[1], (lon1 - lon0) / 5), lon0, lon1)
    else:
        lat = centre[0] + rnd.gauss(0, spread) / 111.2
        lon = centre[1] + rnd.gauss(0, spread) / (111.2 * math.cos(math.radians(centre[0])))
    lat, lon = clamp(lat, 50.17, 51.69), clamp(lon, 11.87, 15.04)
    # areas
    usable = floor = sales = plot = divisible = None
    if med_area:
        usable = round(med_area * math.exp(rnd.gauss(0, 0.6)), 1)
        floor = round(usable * rnd.uniform(1.08, 1.4), 1)
        if otype == "RETAIL":
            sales = round(usable * rnd.uniform(0.6, 0.9), 1)
        if otype in ("HALL_STORAGE_PRODUCTION", "OFFICE_PRACTICE") and rnd.random() < 0.3:
            divisible = round(usable * rnd.uniform(0.2, 0.5), 1)
    if site_kind != "UNIT":
        base = {"PLOT": 700, "BROWNFIELD": 9000}.get(site_kind, (usable or 300) * 2.2)
        plot = round(base * math.exp(rnd.gauss(0, 0.7)), 1)
    # prices
    price = rent = rent_m2 = ""
    on_request = rnd.random() < 0.05
    if not on_request:
        if "SALE" in marketing:
            per_m2 = {"PLOT": 45, "BROWNFIELD": 12}.get(site_kind, 650)
            area = plot if site_kind in ("PLOT", "BROWNFIELD") else usable
            price = money(round(area * per_m2 * math.exp(rnd.gauss(0, 0.5)), -2) or 1000)
        if "RENT" in marketing and usable:
            m2 = round(rnd.uniform(3.5, 11.0), 2)
            rent_m2, rent = money(m2), money(round(m2 * usable, 2))
    # dates
    verified = BASE - datetime.timedelta(days=int(rnd.expovariate(1 / 200)) % 1500)
    consent_date = ""
    if consent != "UNKNOWN":
        consent_date = iso(verified - datetime.timedelta(days=rnd.randint(0, 900)))
    vs = vsp = ""
    if rnd.random() < 0.85 and status not in ("REUSED", "DEMOLISHED"):
        d = BASE - datetime.timedelta(days=rnd.randint(30, 5500))
        vsp = pick(rnd, [("DAY", 20), ("MONTH", 45), ("YEAR", 25), ("ESTIMATE", 10)])
        if vsp == "MONTH":
            d = d.replace(day=1)
        elif vsp == "YEAR":
            d = d.replace(month=1, day=1)
        vs = iso(d)
    # place
    street = rnd.choice(STREETS)
    blur = rnd.choice([100, 200, 250, 500]) if owner == "PRIVATE" and rnd.random() < 0.4 else 0
    flur, zaehler, nenner = rnd.randint(1, 40), rnd.randint(1, 3000), rnd.randint(0, 20)
    gem = int(hashlib.sha1(ags.encode()).hexdigest()[:4], 16) % 9000 + 1000
    parcels = [f"14{gem:04d}{flur:03d}{zaehler:05d}" + (f"{nenner:04d}" if nenner else "____")
               + "__"]
    if rnd.random() < 0.2:
        parcels.append(f"14{gem:04d}{flur:03d}{zaehler + 1:05d}______")
    use_source = rnd.random() < 0.05
    x = y = ""
    if use_source:
        e, nn = utm33(lat, lon)
        x, y = f"{e:.2f}", f"{nn:.2f}"
    # texts
    year = rnd.randint(1850, 2015) if building else ""
    title = f"{stem} {street} in {name}"
    cond = rnd.choice(CONDITION_BLD) if building else ""
    desc = (f"{stem} in {name}, {street}. "
            + (f"Baujahr {year}, Zustand: {cond.lower().replace('_', ' ')}. " if building else
               "Ebenes Grundstück, Zufahrt über öffentliche Straße. ")
            + (f"Nutzfläche rund {usable:.0f} m². " if usable else "")
            + (f"Grundstück rund {plot:.0f} m². " if plot else "")
            + rnd.choice(["Kurzfristig verfügbar.", "Nachnutzung erwünscht, die Gemeinde "
                          "unterstützt bei Förderanträgen.", "Besichtigung nach Absprache.",
                          "Teilflächen möglich; Stellplätze vorhanden."]))
    loc_text = rnd.choice(["Ortszentrum, Bushaltestelle in 200 m.", "Ortsrand, gute Anbindung "
                           "an die Bundesstraße.", "Gewerbegebiet, Autobahn in 10 km.",
                           "Wohngebiet, Schule und Einkauf fußläufig."])
    attachments = ""
    if rnd.random() < 0.3:
        base_url = f"https://daten.example/leerstand/{ags}/{i}"
        items = [{"group": "PHOTO", "media_type": "image/jpeg", "url": f"{base_url}/foto1.jpg",
                  "licence": "CC-BY-4.0"}]
        if rnd.random() < 0.5:
            items.append({"group": "EXPOSE", "media_type": "application/pdf",
                          "url": f"{base_url}/expose.pdf"})
        attachments = json.dumps(items, ensure_ascii=False)
    first, last = rnd.choice(FIRST), rnd.choice(LAST)
    private = owner == "PRIVATE"
    return [
        "", ags, ars if rnd.random() < 0.8 else "", f"L{ags[5:]}-{i:06d}", 1 + i % 5,
        iso(verified), "PUBLIC" if rnd.random() < 0.7 else "INTERNAL", consent, consent_date,
        site_kind, usage, marketing, otype, status,
        rnd.choice(["COMPLETE", "COMPLETE", "PARTIAL"]) if building else "", vs, vsp,
        rnd.choice(REASON) if rnd.random() < 0.7 else "", cond, year,
        rnd.choice(["NONE", "PARTIAL", "FULL", "LOCAL_STANDARD"]) if not building else "FULL",
        rnd.choice(["BPLAN", "S34", "S34", "S35", "EXPECTED_BUILDING_LAND"]),
        f"https://geoportal.example/xplanung/{ags}/bp-{rnd.randint(1, 60)}"
        if rnd.random() < 0.15 else "",
        pick(rnd, [("SUSPECTED", 40), ("CONFIRMED", 25), ("REMEDIATED", 15), ("NONE_KNOWN", 20)])
        if site_kind == "BROWNFIELD" else
        ("NONE_KNOWN" if rnd.random() < 0.9 else "SUSPECTED"),
        street, f"{rnd.randint(1, 140)}{rnd.choice(['', '', '', 'a', 'b'])}",
        rnd.choice(pcs), name, name, str(flur), f"{zaehler}/{nenner}" if nenner else str(zaehler),
        "|".join(parcels),
        "" if use_source else f"{lat:.6f}", "" if use_source else f"{lon:.6f}",
        x, y, "25833" if use_source else "", blur or "",
        usable or "", floor or "", sales or "", plot or "", divisible or "",
        price, rent, rent_m2, "true" if on_request else "", title, desc, loc_text,
        f"Wirtschaftsförderung {kreis[1]}", "Standortberatung",
        f"+49 351 0000-{int(key) % 1000:03d}", f"standort@wf-{key}.example", attachments,
        owner,
        f"{first} {last} (fiktiv)" if private else f"{last} Immobilien GmbH (fiktiv)",
        f"Musterweg {i % 200 + 1}, 00000 Nirgendwo (fiktiv)",
        f"+49 000 {i:07d}" if rnd.random() < 0.6 else "",
        f"owner{i}@example.invalid" if rnd.random() < 0.5 else "",
        rnd.choice(["UNKNOWN", "NONE", "SELL", "LET", "UNDECIDED"]),
        f"Zuletzt besichtigt {iso(verified)}; Ansprechpartner im Bauamt." if rnd.random() < 0.5
        else "",
    ]


def _pick_kind(rnd):
    x = rnd.random() * KIND_CUM[-1]
    for j, c in enumerate(KIND_CUM):
        if x < c:
            return j
    return len(KINDS) - 1


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__.split("\n\n")[1])
    n, outdir = int(sys.argv[1]), sys.argv[2]
    seed = int(sys.argv[3]) if len(sys.argv) > 3 else 6
    if n < 1:
        sys.exit("land.py: N must be at least 1")
    os.makedirs(os.path.join(outdir, "csv"), exist_ok=True)
    muns = municipalities(n, seed)
    kreis_of = {k[0]: k for k in KREISE}
    per_kreis = {}
    with open(os.path.join(outdir, "municipalities.tsv"), "w") as f:
        for m in muns:
            f.write(f"{m[0]}\t{m[1]}\t{m[2]}\t{m[3]}\t{m[4]}\n")
            c = per_kreis.setdefault(m[2], [0, 0])
            c[0] += 1
            c[1] += m[3]
    with open(os.path.join(outdir, "kreise.tsv"), "w") as f:
        for k in KREISE:
            c = per_kreis.get(k[0], [0, 0])
            f.write(f"{k[0]}\t{k[2]}\t{c[0]}\t{c[1]}\t{k[1]}\n")
    for m in muns:
        rnd = random.Random(f"{seed}:{m[0]}")
        with open(os.path.join(outdir, "csv", m[0] + ".csv"), "w", newline="") as f:
            out = csv.writer(f, lineterminator="\n")
            out.writerow(COLUMNS)
            for i in range(m[3]):
                out.writerow(record(rnd, m, kreis_of[m[2]], i))


if __name__ == "__main__":
    main()
