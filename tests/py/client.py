#!/usr/bin/env python3
"""A real python-socketio client (4.6.x or 5.x, whichever the running venv holds),
scripted by the Rust tests through JSON lines, like tests/js/client.js.

  python client.py --version 4|5 --url URL [--nsp /chat] [--query k=v]...
                   [--auth JSON] [--transports polling,websocket|websocket|polling]
                   [--path /socket.io/] [--no-reconnect]

--version must name the python-socketio major of the running venv (a check that
the caller picked the right one); the flags are client.js's, so the Rust side
builds both command lines from one ClientOpts (--insecure and --ca are refused).
--nsp is the namespace the client connects (default "/"). With python-socketio
4.x it may carry a query (`--nsp '/chat?token=abc'`): 4.x sends the name as is
in its CONNECT packet (`40/chat?token=abc`), the way Socket.IO 4 clients pass a
namespace query; events and emits then use the bare namespace. --query adds
handshake URL parameters. --auth (5.x only) is the CONNECT auth payload.
Stdin commands, one JSON object per line:
  {"cmd":"emit","event":"echo","args":["hi"],"ack":true,"id":1}
  {"cmd":"disconnect"}    sio.disconnect()
  {"cmd":"transport"}     answered with {"ev":"transport","transport":...}
Stdout lines (the same as client.js where they overlap):
  {"ev":"connect","id","transport"}   {"ev":"connect_error","message","data"}
  {"ev":"opened","transport"}         sio.connect() returned (any upgrade is done)
  {"ev":"event","name","args","ack"}  {"ev":"ack","id","args"}
  {"ev":"disconnect","reason"}        reason: 5.x's reason, "" on 4.x (it has none)
  {"ev":"nsp_connect"|"nsp_event"|"nsp_disconnect","nsp",...}
                                      the same for another namespace (4.x always
                                      connects "/" too)
Binary values are {"$bin":"<base64>"} both ways. A server event that asks for
an ack is acked with its own arguments. Without "id", emit ack ids count from 1.
The process exits when stdin closes. Library logs go to stderr.

python-socketio has no public catch-all for every event of both majors, so the
script overrides Client._handle_event (to see each EVENT with its ack id),
Client._handle_connect and Client._trigger_event (for disconnects, errors and
the ack reply); they have the same signatures in 4.6.x and 5.x (5.x adds the
CONNECT payload to _handle_connect), and the requirements files pin them.
"""

import argparse
import base64
import json
import logging
import os
import sys
import threading

from importlib.metadata import version

import socketio

MAJOR = int(version("python-socketio").split(".")[0])
_out_lock = threading.Lock()


def out(obj):
    """One JSON object per stdout line (the Rust side parses each line)."""
    line = json.dumps(obj, separators=(",", ":"), default=str)
    with _out_lock:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


def encode(v):
    """bytes become {"$bin": base64}, recursively."""
    if isinstance(v, (bytes, bytearray)):
        return {"$bin": base64.b64encode(bytes(v)).decode("ascii")}
    if isinstance(v, (list, tuple)):
        return [encode(x) for x in v]
    if isinstance(v, dict):
        return {k: encode(x) for k, x in v.items()}
    return v


def decode(v):
    """Inverse of encode: {"$bin": base64} becomes bytes."""
    if isinstance(v, list):
        return [decode(x) for x in v]
    if isinstance(v, dict):
        if set(v) == {"$bin"} and isinstance(v["$bin"], str):
            return base64.b64decode(v["$bin"])
        return {k: decode(x) for k, x in v.items()}
    return v


def error_message(args):
    """The message of a connect_error: 5.x hands the CONNECT_ERROR payload
    (a string or {"message", "data"}); 4.x the ERROR packet's data."""
    first = args[0] if args else None
    if isinstance(first, dict):
        return first.get("message"), encode(first.get("data"))
    return first, None


class ScriptedClient(socketio.Client):
    def __init__(self, nsp, **kwargs):
        super().__init__(**kwargs)
        # The namespace the server uses for this client (the query stripped).
        self.main_nsp = nsp.split("?", 1)[0] or "/"

    def _prefix(self, namespace, ev):
        return ev if (namespace or "/") == self.main_nsp else "nsp_" + ev

    def _handle_event(self, namespace, id, data):
        ev = self._prefix(namespace, "event")
        line = {"ev": ev, "name": data[0], "args": encode(list(data[1:])), "ack": id is not None}
        if ev != "event":
            line["nsp"] = namespace or "/"
        out(line)
        return super()._handle_event(namespace, id, data)

    def _handle_connect(self, namespace, *rest):
        # Reported once the library has recorded the namespace (4.x fires the
        # connect handler first), so an emit right after the line is accepted.
        result = super()._handle_connect(namespace, *rest)
        namespace = namespace or "/"
        ev = self._prefix(namespace, "connect")
        extra = {} if ev == "connect" else {"nsp": namespace}
        sid = self.get_sid(namespace) if MAJOR >= 5 else self.sid
        out({"ev": ev, "id": sid, "transport": self.transport(), **extra})
        return result

    def _trigger_event(self, event, namespace, *args):
        namespace = namespace or "/"
        ev = self._prefix(namespace, event)
        extra = {} if ev == event else {"nsp": namespace}
        if event == "connect":
            pass  # reported by _handle_connect
        elif event == "connect_error":
            message, data = error_message(args)
            out({"ev": ev, "message": message, "data": data, **extra})
        elif event == "disconnect":
            out({"ev": ev, "reason": str(args[0]) if args else "", **extra})
        elif event.startswith("__"):
            pass  # 5.x internal bookkeeping events
        else:
            return tuple(args)  # the ack reply, if the server asked for one
        return None


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    p.add_argument("--version", type=int, required=True)
    p.add_argument("--url", required=True)
    p.add_argument("--nsp", default="/")
    p.add_argument("--query", action="append", default=[])
    p.add_argument("--auth")
    p.add_argument("--transports", default="polling,websocket")
    p.add_argument("--path", default="/socket.io/")
    p.add_argument("--no-reconnect", action="store_true")
    p.add_argument("--insecure", action="store_true")
    p.add_argument("--ca")
    opts = p.parse_args()
    if opts.version != MAJOR:
        p.error(f"--version {opts.version}, but this venv has python-socketio {MAJOR}.x")
    if opts.insecure or opts.ca:
        p.error("--insecure and --ca are not supported by this driver")
    if opts.auth and MAJOR < 5:
        p.error("--auth needs python-socketio 5.x (4.x has no CONNECT auth)")
    return opts


def connect(sio, opts):
    url = opts.url
    if opts.query:
        url += ("&" if "?" in url else "?") + "&".join(opts.query)
    kwargs = {
        "transports": opts.transports.split(","),
        "namespaces": [opts.nsp],
        "socketio_path": opts.path.strip("/"),
    }
    if MAJOR >= 5:
        kwargs["wait_timeout"] = 10
        if opts.auth:
            kwargs["auth"] = json.loads(opts.auth)
    try:
        sio.connect(url, **kwargs)
    except socketio.exceptions.ConnectionError as exc:
        out({"ev": "connect_error", "message": str(exc), "data": None, "phase": "connect"})
        return
    out({"ev": "opened", "transport": sio.transport()})


def run_command(sio, nsp, cmd, next_id):
    kind = cmd.get("cmd")
    if kind == "emit":
        args = tuple(decode(cmd.get("args") or []))
        callback = None
        if cmd.get("ack"):
            ack_id = cmd["id"] if "id" in cmd else next(next_id)

            def callback(*reply, ack_id=ack_id):
                out({"ev": "ack", "id": ack_id, "args": encode(list(reply))})

        sio.emit(cmd["event"], data=args, namespace=nsp, callback=callback)
    elif kind == "disconnect":
        sio.disconnect()
    elif kind == "transport":
        out({"ev": "transport", "transport": sio.transport()})
    else:
        out({"ev": "cmd_error", "cmd": cmd, "error": "unknown cmd"})


def main():
    opts = parse_args()
    logging.basicConfig(stream=sys.stderr, level=logging.INFO)
    sio = ScriptedClient(
        opts.nsp,
        reconnection=not opts.no_reconnect,
        reconnection_delay=0.2,
        reconnection_delay_max=1,
        logger=True,
        engineio_logger=True,
    )
    # Connecting blocks (5.x waits for the namespace): do it beside the stdin loop.
    threading.Thread(target=connect, args=(sio, opts), daemon=True).start()
    ids = iter(range(1, 1 << 62))
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            cmd = json.loads(line)
        except ValueError as exc:
            out({"ev": "bad_cmd", "line": line, "error": str(exc)})
            continue
        try:
            run_command(sio, sio.main_nsp, cmd, ids)
        except Exception as exc:  # report, keep serving
            out({"ev": "cmd_error", "cmd": cmd, "error": repr(exc)})
    # stdin closed: leave at once (the library's threads would keep us alive).
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
