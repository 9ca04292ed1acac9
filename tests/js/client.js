#!/usr/bin/env node
// A real Socket.IO client (the official socket.io-client 2.5.0 or 4.x),
// scripted by the Rust tests through JSON lines.
//
//   node client.js --version 2|4 --url URL [--nsp /chat] [--query k=v]...
//                  [--auth JSON] [--transports polling,websocket|websocket]
//                  [--path /socket.io/] [--no-reconnect] [--reconnect-delay MS]
//                  [--insecure] [--ca CA.pem]
//
// --nsp replaces the URL's path (the URL's own query is kept, so
// `--url http://h/chat?token=abc` works too). --auth is 4.x only. --insecure
// accepts self-signed TLS certificates; --ca trusts the CA certificates of a
// PEM file (instead of Node's built-in roots) for https:// and wss://.
// Stdin commands, one JSON object per line:
//   {"cmd":"emit","event":"echo","args":["hi"],"ack":true,"id":1}
//   {"cmd":"emit_binary",...}   same as emit; args may hold {"$bin":"<base64>"}
//                               (emit decodes those too)
//   {"cmd":"disconnect"} / {"cmd":"connect"}   socket.disconnect() / connect()
//   {"cmd":"open","nsp":"/b"}   one more namespace on the same connection;
//                               reported as connect / connect_error with "nsp"
// Stdout lines:
//   {"ev":"connect","id","transport"}   {"ev":"connect_error","message","data"}
//   {"ev":"event","name","args","ack"}  {"ev":"ack","id","args"}
//   {"ev":"nsp_event","nsp","name","args"}  (an event on an "open"ed namespace)
//   {"ev":"disconnect","reason"}        {"ev":"upgrade","transport"}
//   {"ev":"reconnect_attempt","attempt"} {"ev":"reconnect","attempt"}
//   {"ev":"error","message","data"}     (2.x: engine errors, and ERROR packets
//                                        once connected; before connect an ERROR
//                                        packet is reported as connect_error)
// Binary values are {"$bin":"<base64>"}. A server event that asks for an ack is
// acked with its own arguments. Without "id", emit ack ids count from 1.
// The process exits when stdin closes.
'use strict';

const { parseArgs, die, encode, decode, out, onStdin } = require('./lib');

const opts = parseArgs(process.argv.slice(2), { multi: ['query'], bools: ['no-reconnect', 'insecure'] });
const version = opts.version;
if (version !== '2' && version !== '4') die('--version must be 2 or 4');
if (!opts.url) die('--url is required');
if (opts.auth && version === '2') die('--auth needs --version 4 (socket.io-client 2.x has no auth)');

const url = new URL(opts.url);
if (opts.nsp) url.pathname = opts.nsp;

const ioOpts = {
  forceNew: true,
  reconnection: !opts['no-reconnect'],
  transports: (opts.transports || 'polling,websocket').split(','),
};
if (opts.path) ioOpts.path = opts.path;
if (opts.query) ioOpts.query = Object.fromEntries(opts.query.map((kv) => splitKv(kv)));
if (opts.auth) ioOpts.auth = JSON.parse(opts.auth);
if (opts['reconnect-delay']) {
  ioOpts.reconnectionDelay = Number(opts['reconnect-delay']);
  ioOpts.reconnectionDelayMax = Number(opts['reconnect-delay']);
  ioOpts.randomizationFactor = 0;
}
if (opts.insecure) ioOpts.rejectUnauthorized = false;
if (opts.ca) ioOpts.ca = require('fs').readFileSync(opts.ca);

function splitKv(kv) {
  const at = kv.indexOf('=');
  return at < 0 ? [kv, ''] : [kv.slice(0, at), kv.slice(at + 1)];
}

const io = version === '2' ? require('sio-client-2') : require('sio-client-4').io;
const socket = io(url.toString(), ioOpts);
const manager = socket.io;

socket.on('connect', () => out({ ev: 'connect', id: socket.id, transport: manager.engine.transport.name }));
socket.on('disconnect', (reason) => out({ ev: 'disconnect', reason }));
socket.on('connect_error', (err) => out({
  ev: 'connect_error',
  message: err && err.message !== undefined ? err.message : String(err),
  data: encode(err && err.data !== undefined ? err.data : null),
}));
if (version === '2') {
  // 2.x reports namespace ERROR packets (e.g. "Invalid namespace") and engine
  // errors both as 'error'.
  socket.on('error', (data) => {
    const message = data instanceof Error ? data.message : typeof data === 'string' ? data : data && data.message;
    const ev = !(data instanceof Error) && !socket.connected ? 'connect_error' : 'error';
    out({ ev, message: message === undefined ? null : message, data: data instanceof Error ? null : encode(data) });
  });
}

// The engine is created on each (re)open; hook its upgrade event every time.
manager.on('open', () => {
  manager.engine.on('upgrade', (t) => out({ ev: 'upgrade', transport: t.name }));
});
manager.on('reconnect_attempt', (attempt) => out({ ev: 'reconnect_attempt', attempt }));
manager.on('reconnect', (attempt) => out({ ev: 'reconnect', attempt }));

// Both majors funnel incoming EVENT packets through Socket#onevent(packet);
// wrapping it catches every event name (2.x has no onAny) in wire order.
const onevent = socket.onevent;
socket.onevent = function (packet) {
  const args = packet.data || [];
  const ack = packet.id !== undefined && packet.id !== null;
  out({ ev: 'event', name: args[0], args: encode(args.slice(1)), ack });
  if (ack) this.ack(packet.id)(...args.slice(1));
  return onevent.call(this, { ...packet, id: undefined, data: args });
};

let nextAckId = 1;
onStdin((cmd) => {
  switch (cmd.cmd) {
    case 'emit':
    case 'emit_binary': {
      const args = decode(cmd.args || []);
      if (cmd.ack) {
        const id = cmd.id !== undefined ? cmd.id : nextAckId++;
        socket.emit(cmd.event, ...args, (...reply) => out({ ev: 'ack', id, args: encode(reply) }));
      } else {
        socket.emit(cmd.event, ...args);
      }
      break;
    }
    case 'open': openNamespace(cmd.nsp); break;
    case 'disconnect': socket.disconnect(); break;
    case 'connect': socket.connect(); break;
    default: out({ ev: 'cmd_error', cmd, error: 'unknown cmd' });
  }
});

// A second socket on the same Manager shares the Engine.IO connection (both
// majors open it at once, as autoConnect is on).
function openNamespace(nsp) {
  const extra = manager.socket(nsp, opts.auth ? { auth: JSON.parse(opts.auth) } : {});
  extra.on('connect', () => out({ ev: 'connect', nsp, id: extra.id }));
  // Its events are reported as "nsp_event" (never mistaken for the main socket's).
  const extraOnevent = extra.onevent;
  extra.onevent = function (packet) {
    const args = packet.data || [];
    out({ ev: 'nsp_event', nsp, name: args[0], args: encode(args.slice(1)) });
    return extraOnevent.call(this, packet);
  };
  const refused = (err) => out({
    ev: 'connect_error',
    nsp,
    message: typeof err === 'string' ? err : err && err.message !== undefined ? err.message : null,
  });
  if (version === '2') extra.on('error', refused); else extra.on('connect_error', refused);
}
