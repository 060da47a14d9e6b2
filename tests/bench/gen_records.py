#!/usr/bin/env python3
"""gen_records.py: a deterministic set of synthetic vacant sites as a sync CSV.

Usage: gen_records.py N AGS [SEED] > file.csv

Every field of record.md is filled plausibly (invented owners, no real
personal data). The same N, AGS and SEED always give the same file.
"""
import csv
import random
import sys

KINDS = [
    ("UNIT", "RETAIL", "COMMERCIAL", "RENT", "Ladenlokal"),
    ("UNIT", "OFFICE_PRACTICE", "COMMERCIAL", "RENT", "Büroetage"),
    ("BUILDING", "HOUSE", "RESIDENTIAL|COMMERCIAL", "SALE", "Wohn- und Geschäftshaus"),
    ("BUILDING", "HOSPITALITY", "COMMERCIAL", "SALE|RENT", "Gasthof"),
    ("PLOT", "PLOT", "MIXED", "SALE|LEASEHOLD", "Baulücke"),
    ("BROWNFIELD", "HALL_STORAGE_PRODUCTION", "INDUSTRIAL", "SALE|RENT", "Gewerbebrache"),
]
STREETS = ["Markt", "Bahnhofstraße", "Hauptstraße", "Schulstraße", "Gartenstraße",
           "Lindenstraße", "Am Anger", "Mühlgasse", "Kirchplatz", "Poststraße"]
STATUS = ["MARKETED"] * 5 + ["RESERVED", "CONFIRMED", "SUSPECTED", "REUSED"]
CONSENT = ["CONSENTED", "NO_OBJECTION", "NOTICE_PUBLISHED", "UNKNOWN", "OBJECTED"]
OWNER = ["PRIVATE", "BUSINESS", "PUBLIC", "MUNICIPAL", "UNKNOWN"]
COLUMNS = [
    "municipality_ags", "external_id", "revision", "last_verified_at", "publication",
    "owner_consent", "owner_consent_date", "site_kind", "usage", "marketing", "object_type",
    "status", "vacancy_degree", "vacant_since", "vacant_since_precision", "vacancy_reason",
    "condition", "construction_year", "development", "planning_basis", "contamination",
    "street", "house_number", "postcode", "locality", "gemarkung", "flur", "flurstueck",
    "parcel_ids", "location.lat", "location.lon", "location_blur_m", "usable_area_m2",
    "floor_area_m2", "plot_area_m2", "purchase_price_eur", "rent_eur_month", "rent_eur_m2",
    "title", "description", "location_text", "marketing_contact.organisation",
    "marketing_contact.email", "owner_category", "owner_name", "owner_address",
    "owner_phone", "owner_email", "owner_willingness", "internal_notes",
]


def main():
    n, ags = int(sys.argv[1]), sys.argv[2]
    rnd = random.Random(int(sys.argv[3]) if len(sys.argv) > 3 else 1)
    out = csv.writer(sys.stdout, lineterminator="\n")
    out.writerow(COLUMNS)
    for i in range(n):
        kind, otype, usage, marketing, name = KINDS[i % len(KINDS)]
        area = round(rnd.uniform(40, 5000), 1)
        flur, zaehler = rnd.randint(1, 99), rnd.randint(1, 99999)
        out.writerow([
            ags, f"B-{i:06d}", 1 + i % 7, f"2026-{1 + i % 9:02d}-{1 + i % 28:02d}",
            "PUBLIC" if i % 5 else "INTERNAL", CONSENT[i % len(CONSENT)],
            f"2025-{1 + i % 12:02d}-15", kind, usage, marketing, otype,
            STATUS[i % len(STATUS)], "COMPLETE" if i % 3 else "PARTIAL",
            f"{2010 + i % 15}-{1 + i % 12:02d}-01", "MONTH", "MARKETING_FAILED",
            "NEEDS_REFURBISHMENT", 1890 + i % 130, "FULL", "S34", "NONE_KNOWN",
            STREETS[i % len(STREETS)], str(1 + i % 120), "09456", "Annaberg-Buchholz",
            "Annaberg", str(flur), f"{zaehler}/{1 + i % 9}",
            f"{ags[:2]}4002{flur:03d}{zaehler:05d}{1 + i % 9:04d}__",
            f"{50.55 + rnd.random() * 0.06:.6f}", f"{12.96 + rnd.random() * 0.09:.6f}",
            [0, 0, 0, 150][i % 4] or "", area, round(area * 1.3, 1), round(area * 2.5, 1),
            f"{rnd.randint(20000, 900000)}.00" if "SALE" in marketing else "",
            f"{rnd.randint(300, 9000)}.50" if "RENT" in marketing else "",
            f"{rnd.randint(4, 14)}.25" if "RENT" in marketing else "",
            f"{name} Nr. {i}", f"{name} in gewachsener Lage, Objekt {i}; Beschreibung "
            "mit Angaben zu Zustand, Nutzung und Umfeld.", "Innerorts, ÖPNV in der Nähe.",
            "Wirtschaftsförderung Erzgebirge GmbH", "standort@example.org",
            OWNER[i % len(OWNER)], f"Eigentümer {i} (fiktiv)", f"Musterweg {i}, 00000 Nirgendwo",
            f"+49 000 {i:07d}", f"owner{i}@example.invalid", "SELL",
            f"Interne Notiz {i}",
        ])


if __name__ == "__main__":
    main()
