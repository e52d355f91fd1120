"""Scratch receiver: Flask's threaded dev server, each answer after SLEEP
seconds of time.sleep, which holds its thread as a blocking handler would.
GET /stats returns the peak of requests in flight (?reset=1 zeroes it);
SIGTERM prints it."""
import json
import os
import signal
import sys
import threading
import time

from flask import Flask, request

SLEEP = float(os.environ.get("SLEEP", "0.3"))
PORT = int(os.environ.get("PORT", "18081"))

app = Flask(__name__)
lock = threading.Lock()
state = {"inflight": 0, "peak": 0, "requests": 0}


@app.post("/hook")
def hook():
    request.get_data()
    with lock:
        state["requests"] += 1
        state["inflight"] += 1
        state["peak"] = max(state["peak"], state["inflight"])
    try:
        time.sleep(SLEEP)
        return "{}", 200, {"Content-Type": "application/json"}
    finally:
        with lock:
            state["inflight"] -= 1


@app.get("/stats")
def stats():
    with lock:
        body = json.dumps(state)
        if request.args.get("reset") == "1":
            state["peak"] = 0
            state["requests"] = 0
    return body, 200, {"Content-Type": "application/json"}


def on_term(*_):
    print("peak in flight", state["peak"], json.dumps(state), flush=True)
    sys.exit(0)


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, on_term)
    import logging
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    app.run(host="127.0.0.1", port=PORT, threaded=True)
