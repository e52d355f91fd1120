"""A minimal RiskOS webhook receiver in Flask, written the way the RiskOS guide recommends.

Authenticate in constant time, bound the body, check the envelope, store the event durably under
its event_id (sqlite, INSERT OR IGNORE), acknowledge 200, and process it later on one background
worker thread.

Environment: HOST (127.0.0.1), PORT (8082), AUTH=bearer|basic, BEARER_TOKEN, BASIC_USER,
BASIC_PASSWORD, DB (./receiver.sqlite3), EFFECTS=1 to serve the test-only effects endpoint,
NO_DEDUPE=1 for a deliberately broken variant that processes every copy, WORKER_DELAY (seconds
of simulated work per event), REDIS=host:port to also record each processing in Redis (SADD
processed:<event_id> <inbox seq>), where hookproof's command probe can count it with
redis-cli SCARD processed:{event_id}.
"""

import base64
import hmac
import json
import logging
import os
import queue
import socket
import sqlite3
import threading
import time

from flask import Flask, jsonify, request
from werkzeug.exceptions import HTTPException

BODY_LIMIT = 1 << 20
DB = os.environ.get("DB", "receiver.sqlite3")
NO_DEDUPE = os.environ.get("NO_DEDUPE") == "1"
WORKER_DELAY = float(os.environ.get("WORKER_DELAY", "0"))
REDIS = os.environ.get("REDIS", "")

logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
log = logging.getLogger("receiver")
# One line per request from werkzeug would drown the per-event lines at load.
logging.getLogger("werkzeug").setLevel(logging.WARNING)

app = Flask(__name__)
app.config["MAX_CONTENT_LENGTH"] = BODY_LIMIT
work = queue.Queue()  # unbounded: the ack never waits for processing
local = threading.local()


def db():
    if not hasattr(local, "conn"):
        local.conn = sqlite3.connect(DB, timeout=30, isolation_level=None)
        local.conn.execute("PRAGMA busy_timeout=30000")
    return local.conn


def init_db():
    c = db()
    c.execute("PRAGMA journal_mode=WAL")
    # inbox.seq orders the work; event_id is UNIQUE unless the broken variant is asked for.
    unique = "" if NO_DEDUPE else "UNIQUE"
    c.execute(
        f"CREATE TABLE IF NOT EXISTS inbox (seq INTEGER PRIMARY KEY, event_id TEXT NOT NULL {unique},"
        " event_type TEXT, event_at TEXT, processed INTEGER NOT NULL DEFAULT 0)"
    )
    c.execute("CREATE TABLE IF NOT EXISTS effects (event_id TEXT NOT NULL)")
    c.execute("CREATE INDEX IF NOT EXISTS effects_id ON effects (event_id)")
    # Accepted before a restart but not processed yet: the ack promised this work.
    for row in c.execute("SELECT seq, event_id, event_type, event_at FROM inbox WHERE processed = 0 ORDER BY seq"):
        work.put(row)


class Redis:
    """Just enough of the Redis protocol for one command at a time, so the example needs no client
    library."""

    def __init__(self, addr):
        host, _, port = addr.rpartition(":")
        self.sock = socket.create_connection((host, int(port)), timeout=30)
        self.reader = self.sock.makefile("rb")

    def call(self, *args):
        parts = [str(a).encode() for a in args]
        self.sock.sendall(b"*%d\r\n" % len(parts) + b"".join(b"$%d\r\n%s\r\n" % (len(p), p) for p in parts))
        reply = self.reader.readline()
        if reply.startswith(b"-"):
            raise RuntimeError(reply.decode().strip())
        return reply


def worker():
    c = db()
    redis = Redis(REDIS) if REDIS else None
    while True:
        seq, event_id, event_type, event_at = work.get()
        time.sleep(WORKER_DELAY)  # the business work this example stands in for
        log.info("processed event_id=%s event_type=%s event_at=%s", event_id, event_type, event_at)
        if redis:
            # The inbox seq is one per stored copy, so the set's size is the number of processings.
            redis.call("SADD", "processed:" + event_id, seq)
        c.execute("BEGIN")
        c.execute("INSERT INTO effects (event_id) VALUES (?)", (event_id,))
        c.execute("UPDATE inbox SET processed = 1 WHERE seq = ?", (seq,))
        c.execute("COMMIT")


def authorized():
    got = request.headers.get("Authorization", "").encode()
    if os.environ.get("AUTH") == "basic":
        pair = f"{os.environ.get('BASIC_USER', '')}:{os.environ.get('BASIC_PASSWORD', '')}"
        want = b"Basic " + base64.b64encode(pair.encode())
        return bool(os.environ.get("BASIC_PASSWORD")) and hmac.compare_digest(got, want)
    token = os.environ.get("BEARER_TOKEN", "")
    return bool(token) and hmac.compare_digest(got, b"Bearer " + token.encode())


def fail(status, message, **headers):
    return jsonify(error=message), status, headers


@app.errorhandler(413)
def too_large(_):
    return fail(413, "body too large")


@app.errorhandler(Exception)
def internal(e):
    if isinstance(e, HTTPException):
        return e
    # Never a stack trace in the answer; the log keeps it.
    log.exception("unhandled: %s", type(e).__name__)
    return fail(503, "try again", **{"Retry-After": "1"})


@app.route("/webhooks/riskos", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
def webhook():
    if request.method != "POST":
        return fail(405, "method not allowed", Allow="POST")
    if not authorized():
        scheme = "Basic" if os.environ.get("AUTH") == "basic" else "Bearer"
        return fail(401, "unauthorized", **{"WWW-Authenticate": f'{scheme} realm="riskos"'})
    if request.mimetype != "application/json":
        return fail(415, "expected application/json")
    # A chunked body has no Content-Length for Flask to check, so read one byte past the limit.
    body = request.stream.read(BODY_LIMIT + 1)
    if len(body) > BODY_LIMIT:
        return fail(413, "body too large")
    try:
        envelope = json.loads(body.decode("utf-8"))
    except (ValueError, RecursionError):
        return fail(400, "malformed JSON")
    if not isinstance(envelope, dict):
        return fail(400, "body is not a JSON object")
    for name in ("event_id", "event_type"):
        if not isinstance(envelope.get(name), str) or not envelope[name]:
            return fail(400, f"{name} must be a non-empty string")
    event_at = envelope.get("event_at")
    row = (envelope["event_id"], envelope["event_type"], event_at if isinstance(event_at, str) else None)
    # INSERT OR IGNORE is atomic in sqlite: of concurrent copies exactly one inserts a row.
    cur = db().execute("INSERT OR IGNORE INTO inbox (event_id, event_type, event_at) VALUES (?, ?, ?)", row)
    if cur.rowcount == 1:
        work.put((cur.lastrowid, *row))
    return jsonify(received=True), 200


if os.environ.get("EFFECTS") == "1":

    @app.get("/_hookproof/effects")
    def effects():
        event_id = request.args.get("event_id", "")
        (count,) = db().execute("SELECT count(*) FROM effects WHERE event_id = ?", (event_id,)).fetchone()
        return jsonify(event_id=event_id, count=count)


if __name__ == "__main__":
    init_db()
    threading.Thread(target=worker, daemon=True).start()
    app.run(host=os.environ.get("HOST", "127.0.0.1"), port=int(os.environ.get("PORT", "8082")), threaded=True)
