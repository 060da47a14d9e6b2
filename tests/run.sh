#!/usr/bin/env bash
# run.sh: runs every test tier against the binaries in BUILD.
#
# Usage: tests/run.sh BUILD       (make test calls it with the sanitized build)
#   1. CUnit unit tests of the pure modules
#   2. the deploy scripts' own test (a throwaway cluster)
#   3. CUnit integration tests: a throwaway PostgreSQL cluster under
#      var/test (fsync off), migrated, with TLS material; the tests start the
#      real vacancyd on free ports themselves.
# Environment: VALGRIND=1 runs the daemons of the integration tests under
# valgrind (leaks are errors); VACANCY_TEST_DIR=DIR works there instead of
# var/test; VACANCY_TEST_SUITE=a,b runs only those integration suites (and
# skips tiers 1 and 2). Ends with the line "tests: N passed, M failed".
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:?usage: tests/run.sh BUILD}
case $BUILD in
/*) ;;
*) BUILD=$ROOT/$BUILD ;;
esac
WORK=${VACANCY_TEST_DIR:-$ROOT/var/test}
passed=0
failed=0

# adds the "NAME: P passed, F failed" line of a suite's output to the totals
tally() {
	local line
	line=$(grep -E '^[a-z-]+: [0-9]+ passed, [0-9]+ failed' "$1" | tail -n 1)
	if [ -z "$line" ]; then
		echo "run.sh: $2 printed no result line; counted as one failure" >&2
		failed=$((failed + 1))
		return
	fi
	passed=$((passed + $(sed -E 's/.*: ([0-9]+) passed.*/\1/' <<<"$line")))
	failed=$((failed + $(sed -E 's/.* ([0-9]+) failed.*/\1/' <<<"$line")))
}

cleanup() {
	"$ROOT/deploy/pg.sh" stop "$WORK/pg" >/dev/null 2>&1 || true
}
trap cleanup EXIT

"$ROOT/deploy/pg.sh" stop "$WORK/pg" >/dev/null 2>&1 || true
rm -rf "$WORK"
mkdir -p "$WORK"

if [ -z "${VACANCY_TEST_SUITE:-}" ]; then
	echo "== unit tests"
	"$BUILD/unit_tests" 2>&1 | tee "$WORK/unit.log"
	tally "$WORK/unit.log" unit

	echo "== deploy scripts"
	"$ROOT/tests/scripts/test_deploy.sh" "$WORK/deploy" 2>&1 | tee "$WORK/deploy.log"
	tally "$WORK/deploy.log" deploy
fi

echo "== integration tests"
if PG_FAST=1 "$ROOT/deploy/pg.sh" init "$WORK/pg" &&
	"$ROOT/deploy/migrate.sh" "$("$ROOT/deploy/pg.sh" conninfo "$WORK/pg")" &&
	"$ROOT/deploy/devcerts.sh" "$WORK/tls"; then
	export VACANCY_TEST_WORK=$WORK
	export VACANCY_TEST_VACANCYD=$BUILD/vacancyd
	export VACANCY_TEST_CLIENT=$BUILD/vacancy
	export VACANCY_TEST_TLS=$WORK/tls
	export VACANCY_TEST_PG_CONNINFO
	VACANCY_TEST_PG_CONNINFO=$("$ROOT/deploy/pg.sh" conninfo "$WORK/pg")
	export VACANCY_TEST_PG_STAFF
	VACANCY_TEST_PG_STAFF=$("$ROOT/deploy/pg.sh" conninfo "$WORK/pg" vacancyd_staff)
	export VACANCY_TEST_PG_INVESTOR
	VACANCY_TEST_PG_INVESTOR=$("$ROOT/deploy/pg.sh" conninfo "$WORK/pg" vacancyd_investor)
	export VACANCY_TEST_PG_RESTART="$ROOT/deploy/pg.sh restart $WORK/pg >/dev/null 2>&1"
	export VACANCY_TEST_PG_CRASH="$ROOT/deploy/pg.sh crash $WORK/pg >/dev/null 2>&1"
	export VACANCY_TEST_PG_STOP="$ROOT/deploy/pg.sh stop $WORK/pg >/dev/null 2>&1"
	export VACANCY_TEST_PG_START="$ROOT/deploy/pg.sh start $WORK/pg >/dev/null 2>&1"
	if [ "${VALGRIND:-0}" = 1 ]; then
		export VACANCY_TEST_WRAPPER="valgrind -q --leak-check=full --errors-for-leak-kinds=definite --error-exitcode=99"
	fi
	"$BUILD/integration_tests" 2>&1 | tee "$WORK/integration.log"
	tally "$WORK/integration.log" integration
else
	echo "run.sh: could not prepare the integration environment" >&2
	failed=$((failed + 1))
fi

echo
echo "tests: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
