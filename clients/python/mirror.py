#!/usr/bin/python3
"""mirror.py: an investor portal's SQLite copy of what a vacancy registry publishes.

It replays the registry's change feed (GET /v1/changes) from the cursor it
stored last time: an UPSERT stores the record's public form, a WITHDRAW
removes the record. Each batch is applied in one SQLite transaction together
with the batch's cursor, so a crash neither loses nor applies a batch twice.
--verify then walks the search (GET /v1/records) and compares it with the
mirror. See README.md beside this file.

Needs only Python 3's standard library and Debian's python3-protobuf; the
protobuf module is generated from proto/vacancy.proto with protoc.

Exit status: 0 done; 1 the server, the network or the database failed, or
--verify found differences; 2 bad usage.
"""

import argparse
import http.client
import os
import select
import signal
import sqlite3
import ssl
import subprocess
import sys
import tempfile
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROTO = ROOT / "proto" / "vacancy.proto"
TIMEOUT_S = 30
SCHEMA_VERSION = 1

SCHEMA = """
CREATE TABLE record (
    record_id        TEXT PRIMARY KEY,
    record           BLOB NOT NULL,  -- vacancy.v1.Record, protobuf, its public form
    municipality_ags TEXT,
    object_type      TEXT,           -- enum names: RETAIL, ...
    status           TEXT,           -- MARKETED or RESERVED
    usable_area_m2   REAL,
    updated_at       TEXT,           -- RFC 3339, UTC
    lat              REAL,           -- WGS 84, blurred as the registry publishes it
    lon              REAL
);
CREATE INDEX record_municipality ON record (municipality_ags);
CREATE TABLE state (
    id     INTEGER PRIMARY KEY CHECK (id = 1),
    cursor TEXT NOT NULL             -- the feed position the records reflect
);
INSERT INTO state VALUES (1, '0');
"""

UPSERT = """
INSERT INTO record (record_id, record, municipality_ags, object_type, status,
                    usable_area_m2, updated_at, lat, lon)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (record_id) DO UPDATE SET
    record = excluded.record, municipality_ags = excluded.municipality_ags,
    object_type = excluded.object_type, status = excluded.status,
    usable_area_m2 = excluded.usable_area_m2, updated_at = excluded.updated_at,
    lat = excluded.lat, lon = excluded.lon
"""


class Usage(Exception):
    """The command line cannot work: exit 2."""


class Failure(Exception):
    """The server, the network, the database or the environment failed: exit 1.
    A transient one (the network, a 5xx) is tried again by --follow."""

    def __init__(self, message, transient=False):
        super().__init__(message)
        self.transient = transient


def printable(text, limit=300):
    """Server text made safe for a terminal: control characters escaped, length capped."""
    text = text[:limit]
    return "".join(c if c.isprintable() else f"\\x{ord(c):02x}" for c in text)


def load_proto(gen_dir):
    """Generates vacancy_pb2.py into gen_dir when it is missing or older than
    the .proto, and imports it."""
    try:
        from google.protobuf import message  # noqa: F401
    except ImportError:
        raise Failure(f"the Python protobuf module is missing for {sys.executable} "
                      "(apt-get install python3-protobuf; it serves Debian's /usr/bin/python3)")
    if not PROTO.exists():
        raise Failure(f"{PROTO} not found: mirror.py runs from its place in the source tree")
    out = gen_dir / "vacancy_pb2.py"
    if not out.exists() or out.stat().st_mtime < PROTO.stat().st_mtime:
        try:
            gen_dir.mkdir(parents=True, exist_ok=True)
            with tempfile.TemporaryDirectory(dir=gen_dir) as tmp:
                cmd = ["protoc", f"--python_out={tmp}", f"-I{PROTO.parent}", str(PROTO)]
                res = subprocess.run(cmd, capture_output=True, text=True)
                if res.returncode != 0:
                    raise Failure(f"protoc failed: {res.stderr.strip()}")
                # a rename: a mirror starting meanwhile never imports half a file
                os.replace(Path(tmp) / "vacancy_pb2.py", out)
        except FileNotFoundError:
            raise Failure("protoc not found (apt-get install protobuf-compiler)")
        except OSError as e:
            raise Failure(f"cannot generate the protobuf module in {gen_dir}: {e}")
    sys.path.insert(0, str(gen_dir))
    import vacancy_pb2
    return vacancy_pb2


class Registry:
    """GETs protobuf messages from the registry over one kept-alive HTTPS
    connection, verified against the CA file (or the system's CAs)."""

    def __init__(self, pb, url, token, ca):
        u = urllib.parse.urlsplit(url)
        if u.scheme != "https" or not u.hostname:
            raise Usage(f"--url must be https://HOST[:PORT], not '{url}'")
        try:
            self.ctx = ssl.create_default_context(cafile=ca)
        except (OSError, ssl.SSLError) as e:
            raise Usage(f"--ca {ca}: {e}")
        self.pb = pb
        self.origin = f"https://{u.netloc}"
        self.host, self.port = u.hostname, u.port
        self.base = u.path.rstrip("/")
        self.headers = {"Authorization": f"Bearer {token}", "Accept": "application/x-protobuf"}
        self.conn = None

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def _exchange(self, path):
        """One request; returns (status, content type, body)."""
        if self.conn is None:
            self.conn = http.client.HTTPSConnection(self.host, self.port, timeout=TIMEOUT_S,
                                                    context=self.ctx)
        self.conn.request("GET", self.base + path, headers=self.headers)
        resp = self.conn.getresponse()
        body = resp.read()
        if resp.getheader("Connection", "").lower() == "close":
            self.close()
        return resp.status, resp.getheader("Content-Type", ""), body

    def get(self, path, msg_type):
        """GETs path and returns its body parsed as msg_type; Failure otherwise."""
        what = f"GET {self.base}{path}"
        reused = self.conn is not None
        try:
            try:
                status, ctype, body = self._exchange(path)
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                if not reused:
                    raise
                # the server closed the idle connection: once more on a new one
                self.close()
                status, ctype, body = self._exchange(path)
        except (OSError, http.client.HTTPException) as e:
            self.close()
            raise Failure(f"cannot reach {self.origin}: {str(e) or type(e).__name__}",
                          transient=not isinstance(e, ssl.SSLCertVerificationError))
        protobuf = ctype.split(";")[0].strip() == "application/x-protobuf"
        if status != 200:
            raise Failure(f"{what}: {self._error(status, protobuf, body)}",
                          transient=status >= 500 or status == 429)
        if not protobuf:
            raise Failure(f"{what}: expected application/x-protobuf, got '{printable(ctype)}'")
        msg = msg_type()
        try:
            msg.ParseFromString(body)
        except Exception as e:  # DecodeError, under any of protobuf's implementations
            raise Failure(f"{what}: not a {msg_type.DESCRIPTOR.full_name}: {e}")
        return msg

    def _error(self, status, protobuf, body):
        """The server's Error message as one line (and one per field error)."""
        err = self.pb.Error()
        try:
            if not protobuf:
                raise ValueError
            err.ParseFromString(body)
        except Exception:
            return f"HTTP {status}: {printable(body.decode('utf-8', 'replace'), 200)}"
        text = f"{status} {printable(err.code)}: {printable(err.message)}"
        if err.request_id and err.request_id not in err.message:
            text += f" (request {printable(err.request_id)})"
        for fe in err.field_errors:
            text += f"\n  {printable(fe.field)}: {printable(fe.code)}: {printable(fe.message)}"
        return text


def open_db(path):
    """Opens the mirror, creating its tables in a new file."""
    db = sqlite3.connect(path, isolation_level=None)  # transactions are explicit
    (version,) = db.execute("PRAGMA user_version").fetchone()
    if version == 0:
        db.execute("BEGIN IMMEDIATE")
        (tables,) = db.execute("SELECT count(*) FROM sqlite_master").fetchone()
        if tables:
            raise Failure(f"{path} is some other SQLite database, not a mirror")
        for stmt in SCHEMA.split(";"):
            if stmt.strip():
                db.execute(stmt)
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        db.execute("COMMIT")
    elif version != SCHEMA_VERSION:
        raise Failure(f"{path}: mirror schema version {version}, this program knows "
                      f"{SCHEMA_VERSION}")
    db.execute("PRAGMA journal_mode = WAL")  # a portal reads while the mirror writes
    return db


def enum_name(enum, number):
    try:
        return enum.Name(number)
    except ValueError:  # a value newer than our .proto
        return str(number)


def portal_columns(pb, rec):
    """The columns a portal filters on, NULL where the record has no value."""
    def opt(msg, name):
        return getattr(msg, name) if msg.HasField(name) else None

    loc = rec.location if rec.HasField("location") else None
    return (
        opt(rec, "municipality_ags"),
        enum_name(pb.ObjectType.Value, rec.object_type) if rec.HasField("object_type") else None,
        enum_name(pb.Status.Value, rec.status) if rec.HasField("status") else None,
        opt(rec, "usable_area_m2"),
        opt(rec, "updated_at"),
        opt(loc, "lat") if loc else None,
        opt(loc, "lon") if loc else None,
    )


def apply_batch(pb, db, after, batch):
    """Applies a batch read after cursor `after` and moves the cursor, in one
    transaction. Returns (upserts, withdrawals), or None when the stored
    cursor is no longer `after` (another mirror process was faster)."""
    next_cursor = batch.next_cursor or batch.changes[-1].cursor
    if next_cursor == after:
        raise Failure(f"the feed did not advance past cursor {after}")
    upserts = withdrawals = 0
    db.execute("BEGIN IMMEDIATE")
    try:
        (cursor,) = db.execute("SELECT cursor FROM state").fetchone()
        if cursor != after:
            db.execute("ROLLBACK")
            return None
        for ch in batch.changes:
            if ch.kind == pb.ChangeKind.UPSERT:
                if not ch.HasField("record") or ch.record.record_id not in ("", ch.record_id):
                    raise Failure(f"change {ch.cursor}: an UPSERT without its record")
                db.execute(UPSERT, (ch.record_id, ch.record.SerializeToString(),
                                    *portal_columns(pb, ch.record)))
                upserts += 1
            elif ch.kind == pb.ChangeKind.WITHDRAW:
                db.execute("DELETE FROM record WHERE record_id = ?", (ch.record_id,))
                withdrawals += 1
            else:
                raise Failure(f"change {ch.cursor}: unknown kind {ch.kind}")
        db.execute("UPDATE state SET cursor = ?", (next_cursor,))
        db.execute("COMMIT")
    except BaseException:
        if db.in_transaction:
            db.execute("ROLLBACK")
        raise
    return upserts, withdrawals


def stored_cursor(db):
    return db.execute("SELECT cursor FROM state").fetchone()[0]


def catch_up(pb, reg, db, limit, stop):
    """Applies batches until the feed answers an empty one. Returns
    (caught up, changes, upserts, withdrawals); not caught up when stopped."""
    changes = upserts = withdrawals = 0
    while not stop.requested:
        after = stored_cursor(db)
        query = urllib.parse.urlencode({"after": after, "limit": limit})
        batch = reg.get(f"/v1/changes?{query}", pb.ChangeBatch)
        if not batch.changes:
            return True, changes, upserts, withdrawals
        applied = apply_batch(pb, db, after, batch)
        if applied is not None:
            changes += len(batch.changes)
            upserts += applied[0]
            withdrawals += applied[1]
    return False, changes, upserts, withdrawals


def record_diff(a, b):
    """Names of the top-level fields in which two Records differ."""
    names = []
    for f in a.DESCRIPTOR.fields:
        if f.label == f.LABEL_REPEATED:
            same = list(getattr(a, f.name)) == list(getattr(b, f.name))
        else:
            same = (a.HasField(f.name) == b.HasField(f.name)
                    and getattr(a, f.name) == getattr(b, f.name))
        if not same:
            names.append(f.name)
    return names or ["unknown fields"]


def verify(pb, reg, db, page_size):
    """Walks the whole search and compares it with the mirror. Returns
    (records in the search, records in the mirror, differences)."""
    search, diffs, token = {}, [], None
    while True:
        params = {"page_size": page_size}
        if token:
            params["page_token"] = token
        page = reg.get(f"/v1/records?{urllib.parse.urlencode(params)}", pb.SearchResponse)
        for rec in page.records:
            if rec.record_id in search:
                diffs.append(f"listed twice by the search: {rec.record_id}")
            search[rec.record_id] = rec
        token = page.next_page_token
        if not token:
            break
    mirror = dict(db.execute("SELECT record_id, record FROM record"))
    diffs += [f"only in the search: {rid}" for rid in sorted(search.keys() - mirror.keys())]
    diffs += [f"only in the mirror: {rid}" for rid in sorted(mirror.keys() - search.keys())]
    for rid in sorted(search.keys() & mirror.keys()):
        mine = pb.Record()
        try:
            mine.ParseFromString(mirror[rid])
        except Exception:
            diffs.append(f"differs: {rid}: the mirror's bytes do not parse")
            continue
        # both re-serialized in field order: equal bytes mean equal records
        theirs = search[rid]
        if (mine.SerializeToString(deterministic=True)
                != theirs.SerializeToString(deterministic=True)):
            diffs.append(f"differs: {rid}: {', '.join(record_diff(mine, theirs))}")
    return len(search), len(mirror), diffs


class Stop:
    """SIGINT and SIGTERM ask to stop after the current batch; a sleep ends
    at once (the signal wakes a pipe that the sleep selects on)."""

    def __init__(self):
        self.requested = False
        self.rfd, wfd = os.pipe()
        os.set_blocking(wfd, False)
        signal.set_wakeup_fd(wfd)
        signal.signal(signal.SIGINT, self._on_signal)
        signal.signal(signal.SIGTERM, self._on_signal)

    def _on_signal(self, signum, frame):
        self.requested = True

    def sleep(self, seconds):
        if not self.requested:
            select.select([self.rfd], [], [], seconds)


def positive(kind):
    def parse(text):
        try:
            value = kind(text)
        except ValueError:
            value = 0
        if value <= 0:
            raise argparse.ArgumentTypeError(f"must be a positive number, not '{text}'")
        return value
    return parse


def parse_args(argv):
    p = argparse.ArgumentParser(
        prog="mirror.py",
        description="Keeps a SQLite mirror of the records a vacancy registry publishes.")
    p.add_argument("--url", default=os.environ.get("VACANCY_URL"),
                   help="the registry, https://HOST[:PORT] (default: $VACANCY_URL)")
    p.add_argument("--token", default=os.environ.get("VACANCY_TOKEN"),
                   help="bearer token (default: $VACANCY_TOKEN, which keeps it out of ps)")
    p.add_argument("--ca", default=os.environ.get("VACANCY_CACERT"),
                   help="CA certificate file that verifies the server "
                        "(default: $VACANCY_CACERT, else the system's CAs)")
    p.add_argument("--db", required=True, help="the mirror's SQLite file (created if missing)")
    p.add_argument("--limit", type=positive(int), default=500,
                   help="changes per feed request, records per search page (default 500)")
    p.add_argument("--follow", action="store_true",
                   help="keep polling the feed until SIGINT or SIGTERM")
    p.add_argument("--interval", type=positive(float), default=10.0,
                   help="seconds between polls with --follow (default 10)")
    p.add_argument("--verify", action="store_true",
                   help="after catching up, compare the mirror with the search")
    p.add_argument("--gen-dir", type=Path, default=ROOT / "build" / "python",
                   help="where the generated protobuf module goes (default: build/python)")
    args = p.parse_args(argv)
    if not args.url:
        p.error("no registry: --url or VACANCY_URL")
    if not args.token:
        p.error("no token: --token or VACANCY_TOKEN")
    if args.follow and args.verify:
        p.error("--verify checks a mirror once; it does not go with --follow")
    return args


def report(db, changes, upserts, withdrawals):
    (count,) = db.execute("SELECT count(*) FROM record").fetchone()
    print(f"mirror: cursor {stored_cursor(db)}: {changes} changes applied "
          f"({upserts} upserts, {withdrawals} withdrawals), {count} records", flush=True)


def once(pb, reg, db, args, stop):
    """Catches up, then verifies if asked; returns the exit status."""
    done, n, ups, wds = catch_up(pb, reg, db, args.limit, stop)
    report(db, n, ups, wds)
    if not done:
        print("mirror: stopped by a signal before catching up", flush=True)
        return 1
    if not args.verify:
        return 0
    found, mirrored, diffs = verify(pb, reg, db, args.limit)
    if diffs:
        # a change may have landed between the feed and the search: once more
        catch_up(pb, reg, db, args.limit, stop)
        found, mirrored, diffs = verify(pb, reg, db, args.limit)
    print(f"verify: {found} records in the search, {mirrored} in the mirror, "
          f"{len(diffs)} differences", flush=True)
    for d in diffs:
        print(f"  {d}", flush=True)
    return 1 if diffs else 0


def follow(pb, reg, db, args, stop):
    """Catches up every interval until a signal; a transient failure (the
    network, a 5xx) is reported and tried again, any other ends the run."""
    while not stop.requested:
        try:
            _, n, ups, wds = catch_up(pb, reg, db, args.limit, stop)
            if n:
                report(db, n, ups, wds)
        except Failure as e:
            if not e.transient:
                raise
            print(f"mirror: {e}; trying again in {args.interval:g} s", file=sys.stderr,
                  flush=True)
        stop.sleep(args.interval)
    print("mirror: stopped by a signal", flush=True)
    return 0


def run(args):
    """The mirror's work; returns the exit status or raises Usage/Failure."""
    stop = Stop()
    pb = load_proto(args.gen_dir)
    reg = Registry(pb, args.url, args.token, args.ca)
    try:
        db = open_db(args.db)
    except sqlite3.Error as e:
        raise Failure(f"{args.db}: {e}")
    try:
        return (follow if args.follow else once)(pb, reg, db, args, stop)
    except sqlite3.Error as e:
        raise Failure(f"{args.db}: {e}")
    finally:
        reg.close()
        db.close()


def main(argv=None):
    args = parse_args(argv)
    try:
        return run(args)
    except Usage as e:
        print(f"mirror: {e}", file=sys.stderr)
        return 2
    except Failure as e:
        print(f"mirror: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
