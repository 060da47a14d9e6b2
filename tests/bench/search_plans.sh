#!/usr/bin/env bash
# search_plans.sh: the plan of each search filter on a loaded registry: which
# index of registry.record serves it and how long it runs (EXPLAIN ANALYZE of
# the daemon's own statement, from `vacancyd explain`).
#
# Usage: tests/bench/search_plans.sh BUILD CONNINFO
#   CONNINFO of a migrated database with data, e.g. the cluster that
#   tests/bench/overview.sh leaves in var/bench-overview:
#     deploy/pg.sh start var/bench-overview/pg
#     tests/bench/search_plans.sh build/default "$(deploy/pg.sh conninfo var/bench-overview/pg)"
# Prints one line per search: role, query, the scans of registry.record, ms.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${1:?usage: tests/bench/search_plans.sh BUILD CONNINFO}
CONNINFO=${2:?usage: tests/bench/search_plans.sh BUILD CONNINFO}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac

SEARCHES=(
	"investor|"
	"investor|region=14521020"
	"investor|region=145210200"
	"investor|bbox=50.55,12.95,50.60,13.05"
	"investor|near=50.58,13.0,1000&sort=DISTANCE_ASC"
	"investor|site_kind=PLOT"
	"investor|usage=AGRICULTURAL"
	"investor|marketing=LEASE"
	"investor|object_type=HALL_STORAGE_PRODUCTION"
	"investor|status=RESERVED"
	"investor|min_usable_area_m2=2000&sort=AREA_DESC"
	"investor|max_usable_area_m2=50&sort=AREA_ASC"
	"investor|min_plot_area_m2=5000"
	"investor|max_purchase_price_eur=50000&sort=PRICE_ASC"
	"investor|max_rent_eur_month=300"
	"investor|updated_since=2026-11-01T00:00:00Z"
	"investor|text=Halle"
	"investor|object_type=RETAIL&min_usable_area_m2=100&bbox=50.5,12.8,50.7,13.1&status=MARKETED"
	"county:14521|"
	"county:14521|status=CONFIRMED&sort=AREA_DESC"
	"municipality:14521020|text=Laden"
)

printf '%-22s %-60s %-50s %s\n' role query "scans of registry.record" ms
for s in "${SEARCHES[@]}"; do
	role=${s%%|*}
	q=${s#*|}
	for later in "" 1; do
		plan=$("$BUILD/vacancyd" explain -r "$role" ${later:+-l 0} "$q" |
			psql "$CONNINFO" -qX 2>&1)
		scans=$(grep -oE '(Seq Scan on record |Index Only Scan( Backward)? using [a-z_]+ on record |Index Scan( Backward)? using [a-z_]+ on record |Bitmap Index Scan on [a-z_]+)' <<<"$plan" |
			sed -E 's/ on record $//; s/Index (Only )?Scan (Backward )?using //; s/Bitmap Index Scan on /bitmap /' |
			grep -v -E '^record_(record_id_municipality_ags_key|internal_pkey|pkey)$' | sort -u | paste -sd, -)
		ms=$(sed -nE 's/.*Execution Time: ([0-9.]+) ms.*/\1/p' <<<"$plan")
		printf '%-22s %-60s %-50s %s\n' "$role" "${q:-(none)}${later:+ [later page]}" \
			"${scans:-none}" "${ms:-?}"
	done
done
