#!/usr/bin/env python3
"""writes.py: writes through the sync API while the bench reads.

Usage: writes.py visibility DIR REPS
       writes.py soak DIR SECONDS

DIR is land.sh's work directory: DIR/land/csv/<AGS>.csv (the records as
loaded), DIR/muni_tokens.txt ("AGS TOKEN"), DIR/visible.txt (published
MARKETED records: "AGS EXTERNAL_ID OBJECT_TYPE LAT LON", the position as
investors see it), DIR/env (VACANCY_URL, VACANCY_CACERT, BENCH_TOKEN = an
investor token, VACANCY_BIN = the client).

visibility: REPS times, one record of visible.txt (a different one each
time) gets a new revision and a new title, sent with `vacancy sync` (one
transfer, one change); as soon as the client has the answer, an investor
search (the typical GET form: status MARKETED, its object type, a small box
around it, newest first, JSON) is repeated back to back on one keep-alive
connection until the new title appears. Prints per repetition and then
  visibility reps=N median_ms=F max_ms=F sync_median_ms=F polls_max=N
where the delay is from the sync's answer to the first search answer that
shows the change (it includes that search's own latency; 0 polls before it
means the first search already saw it).

soak: every 2 s until SECONDS are over, the first 100 records of the next
municipality (with at least 100) get a new revision and title, one transfer.
Prints: soak_writes transfers=N records=N failed=N
"""
import csv
import http.client
import os
import ssl
import statistics
import subprocess
import sys
import time
import urllib.parse


def env(d):
    out = {}
    with open(os.path.join(d, "env")) as f:
        for line in f:
            k, _, v = line.strip().partition("=")
            if k:
                out[k] = v
    return out


def tokens(d):
    with open(os.path.join(d, "muni_tokens.txt")) as f:
        return dict(line.split() for line in f if line.strip())


def read_csv(d, ags):
    with open(os.path.join(d, "land", "csv", ags + ".csv"), newline="") as f:
        rows = list(csv.reader(f))
    return rows[0], rows[1:]


def write_csv(path, head, rows):
    with open(path, "w", newline="") as f:
        csv.writer(f, lineterminator="\n").writerows([head] + rows)


def sync(e, token, path, transfer_id):
    """Runs vacancy sync; its wall time in seconds, or raises."""
    t0 = time.monotonic()
    r = subprocess.run([e["VACANCY_BIN"], "sync", path, "--batch", "10000", "--transfer-id",
                        transfer_id], env=dict(os.environ, VACANCY_URL=e["VACANCY_URL"],
                                               VACANCY_CACERT=e["VACANCY_CACERT"],
                                               VACANCY_TOKEN=token),
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"vacancy sync {path}: {r.stderr.strip()[:300]}")
    return time.monotonic() - t0


def visibility(d, reps):
    e, toks = env(d), tokens(d)
    u = urllib.parse.urlsplit(e["VACANCY_URL"])
    ctx = ssl.create_default_context(cafile=e["VACANCY_CACERT"])
    ctx.check_hostname = False
    conn = http.client.HTTPSConnection(u.hostname, u.port, context=ctx, timeout=60)
    hdr = {"Authorization": "Bearer " + e["BENCH_TOKEN"], "Accept": "application/json"}
    with open(os.path.join(d, "visible.txt")) as f:
        cands = [line.split() for line in f if line.strip()]
    nonce = str(int(time.time()))
    delays, syncs, polls_max = [], [], 0
    for k in range(reps):
        ags, ext, otype, lat, lon = cands[k % len(cands)]
        head, rows = read_csv(d, ags)
        row = next(r for r in rows if r[head.index("external_id")] == ext)
        marker = f"Sichtbarkeit-{nonce}-{k}"
        row[head.index("revision")] = str(int(row[head.index("revision")]) + 100 + k)
        row[head.index("title")] = f"{marker} {row[head.index('title')]}"[:200]
        path = os.path.join(d, "visibility.csv")
        write_csv(path, head, [row])
        lat, lon = float(lat), float(lon)
        q = (f"/v1/records?status=MARKETED&object_type={otype}&bbox={lat - 0.01:.6f},"
             f"{lon - 0.01:.6f},{lat + 0.01:.6f},{lon + 0.01:.6f}&sort=UPDATED_DESC&page_size=50")
        s = sync(e, toks[ags], path, f"vis-{nonce}-{k}")
        t_ack = time.monotonic()
        polls = 0
        while True:
            conn.request("GET", q, headers=hdr)
            resp = conn.getresponse()
            body = resp.read()
            if resp.status != 200:
                raise RuntimeError(f"search answered {resp.status}: {body[:200]!r}")
            if marker.encode() in body:
                break
            polls += 1
            if time.monotonic() - t_ack > 60:
                raise RuntimeError(f"{ext} of {ags}: the change was not visible after 60 s")
        delay = time.monotonic() - t_ack
        delays.append(delay * 1000)
        syncs.append(s * 1000)
        polls_max = max(polls_max, polls)
        print(f"  visibility {k}: {ags} {ext}: sync {s * 1000:.1f} ms, visible "
              f"{delay * 1000:.1f} ms after its answer ({polls} searches before)", file=sys.stderr)
    print(f"visibility reps={reps} median_ms={statistics.median(delays):.1f} "
          f"max_ms={max(delays):.1f} sync_median_ms={statistics.median(syncs):.1f} "
          f"polls_max={polls_max}")


def soak(d, seconds):
    e, toks = env(d), tokens(d)
    big = []
    with open(os.path.join(d, "land", "municipalities.tsv")) as f:
        for line in f:
            ags, _, _, n, _ = line.rstrip("\n").split("\t")
            if int(n) >= 100:
                big.append(ags)
    end = time.monotonic() + seconds
    it = transfers = records = failed = 0
    nonce = str(int(time.time()))
    while time.monotonic() < end and big:
        ags = big[it % len(big)]
        head, rows = read_csv(d, ags)
        rows = rows[:100]
        for r in rows:
            r[head.index("revision")] = str(int(r[head.index("revision")]) + 1000 + it)
            r[head.index("title")] = f"{r[head.index('title')]} (Stand {it})"[:200]
        path = os.path.join(d, "soak.csv")
        write_csv(path, head, rows)
        try:
            sync(e, toks[ags], path, f"soak-{nonce}-{it}")
            transfers += 1
            records += len(rows)
        except RuntimeError as ex:
            failed += 1
            print(f"writes.py: {ex}", file=sys.stderr)
        it += 1
        time.sleep(max(0.0, min(2.0, end - time.monotonic())))
    print(f"soak_writes transfers={transfers} records={records} failed={failed}")


def main():
    if len(sys.argv) != 4 or sys.argv[1] not in ("visibility", "soak"):
        sys.exit(__doc__)
    if sys.argv[1] == "visibility":
        visibility(sys.argv[2], int(sys.argv[3]))
    else:
        soak(sys.argv[2], float(sys.argv[3]))


if __name__ == "__main__":
    main()
