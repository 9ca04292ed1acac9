#!/usr/bin/env node
// A real Node Socket.IO upstream: the same small app as the go-socket.io
// gateway in shared/fixtures/go-socket.io, run on socket.io 2.5.0 or 4.x.
//
//   node upstream.js --version 2|4 [--port 0] [--tls CERT KEY] [--allow-eio3]
//                    [--tls-client-ca CA.pem] [--path /socket.io]
//                    [--ping-interval MS] [--ping-timeout MS]
//
// --tls-client-ca (with --tls) demands a client certificate signed by that CA
// (mutual TLS: requestCert + rejectUnauthorized); the handshake of a client
// without one fails.
// Namespaces `/` and `/chat` carry the app; `/secure` adds a middleware that
// rejects a connect unless the token (query or, on 4.x, auth) is "abc", with
// err.data = {code: 401}. Socket events:
//   echo X    -> ack(X)
//   msg X     -> emit("msg", "recv: X")
//   bin B     -> ack(B reversed) when the client asks for an ack, otherwise
//                emit("bin", B reversed)   (B is a Buffer; reversed so a test
//                can tell the server's answer from a plain echo)
//   whoami    -> ack({query, auth, nsp, proto}) as the server sees the handshake
//                (proto: the X-Forwarded-Proto header, null when absent)
// HTTP (beside the Socket.IO path):
//   GET /push?msg=X[&nsp=/chat]       emit("push", X) to that namespace -> {"count":N}
//   GET /kick?nsp=/chat[&close=1]     disconnect its sockets (close=1: the whole
//                                     Engine.IO connection)   -> {"count":N}
// Stdout: one JSON line {"ready":true,"port":N,...} once listening, then one
// line per event: connection, disconnect, recv (every event received), upgrade.
// Stdin: JSON commands {"cmd":"push","nsp","event","args"} / {"cmd":"kick","nsp","close"}
// (binary allowed via {"$bin":…}); the process exits when stdin closes.
'use strict';

const fs = require('fs');
const http = require('http');
const https = require('https');
const { parseArgs, die, encode, decode, out, onStdin } = require('./lib');

// `--tls CERT KEY` takes two values; pull it out before the generic parser.
const argv = process.argv.slice(2);
let tls = null;
const tlsAt = argv.indexOf('--tls');
if (tlsAt >= 0) {
  if (tlsAt + 2 >= argv.length) die('--tls needs CERT and KEY');
  tls = { cert: fs.readFileSync(argv[tlsAt + 1]), key: fs.readFileSync(argv[tlsAt + 2]) };
  argv.splice(tlsAt, 3);
}
const opts = parseArgs(argv, { bools: ['allow-eio3'] });
const version = opts.version;
if (version !== '2' && version !== '4') die('--version must be 2 or 4');
if (opts['tls-client-ca']) {
  if (!tls) die('--tls-client-ca needs --tls');
  Object.assign(tls, { ca: fs.readFileSync(opts['tls-client-ca']), requestCert: true, rejectUnauthorized: true });
}

const NAMESPACES = ['/', '/chat', '/secure'];
const server = tls ? https.createServer(tls, onHttp) : http.createServer(onHttp);
const ioOpts = { path: opts.path || '/socket.io', serveClient: false };
if (opts['ping-interval']) ioOpts.pingInterval = Number(opts['ping-interval']);
if (opts['ping-timeout']) ioOpts.pingTimeout = Number(opts['ping-timeout']);

let io;
if (version === '2') {
  io = require('sio-server-2')(server, ioOpts);
} else {
  const { Server } = require('sio-server-4');
  io = new Server(server, { ...ioOpts, allowEIO3: Boolean(opts['allow-eio3']) });
}

// The two majors differ in how a namespace lists its sockets.
function socketsOf(nsp) {
  const n = io.of(nsp);
  return version === '2' ? Object.values(n.connected) : [...n.sockets.values()];
}

const upgradeSeen = new WeakSet(); // one upgrade line per Engine.IO connection

for (const name of NAMESPACES) {
  const nsp = io.of(name);
  if (name === '/secure') {
    nsp.use((socket, next) => {
      const auth = socket.handshake.auth || {};
      const token = auth.token || socket.handshake.query.token;
      if (token === 'abc') return next();
      const err = new Error('not authorized');
      err.data = { code: 401 };
      next(err);
    });
  }
  nsp.on('connection', (socket) => onConnection(name, socket));
}

function onConnection(nsp, socket) {
  const conn = socket.conn;
  out({
    ev: 'connection', nsp, id: socket.id,
    query: socket.handshake.query, auth: socket.handshake.auth || null,
    eio: conn.protocol || 3, transport: conn.transport.name,
  });
  if (!upgradeSeen.has(conn)) {
    upgradeSeen.add(conn);
    conn.on('upgrade', (t) => out({ ev: 'upgrade', id: socket.id, transport: t.name }));
  }
  // Log every incoming event before its handler runs (2.x and 4.x both have
  // socket.use; the ack callback, if any, is the last element).
  socket.use((packet, next) => {
    const ack = typeof packet[packet.length - 1] === 'function';
    const args = packet.slice(1, ack ? -1 : undefined);
    out({ ev: 'recv', nsp, id: socket.id, name: packet[0], args: encode(args), ack });
    next();
  });
  socket.on('echo', (arg, ack) => { if (typeof ack === 'function') ack(arg); });
  socket.on('msg', (arg) => socket.emit('msg', `recv: ${arg}`));
  socket.on('bin', (arg, ack) => {
    const reversed = Buffer.from(arg || []).reverse();
    if (typeof ack === 'function') ack(reversed); else socket.emit('bin', reversed);
  });
  socket.on('whoami', (ack) => {
    if (typeof ack !== 'function') return;
    ack({
      query: socket.handshake.query, auth: socket.handshake.auth || null, nsp: socket.nsp.name,
      proto: socket.handshake.headers['x-forwarded-proto'] || null,
    });
  });
  socket.on('disconnect', (reason) => out({ ev: 'disconnect', nsp, id: socket.id, reason }));
}

function push(nsp, event, args) {
  const count = socketsOf(nsp).length;
  io.of(nsp).emit(event, ...args);
  return count;
}

function kick(nsp, close) {
  const sockets = socketsOf(nsp);
  for (const s of sockets) s.disconnect(Boolean(close));
  return sockets.length;
}

function onHttp(req, res) {
  const url = new URL(req.url, 'http://localhost');
  const reply = (status, body) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  const nsp = url.searchParams.get('nsp') || '/';
  // io.of() would create unknown namespaces on the fly: refuse them instead.
  if (!NAMESPACES.includes(nsp)) return reply(404, { error: 'unknown namespace' });
  if (url.pathname === '/push') {
    const msg = url.searchParams.get('msg');
    if (msg === null) return reply(400, { error: 'missing msg' });
    return reply(200, { count: push(nsp, 'push', [msg]) });
  }
  if (url.pathname === '/kick') return reply(200, { count: kick(nsp, url.searchParams.get('close') === '1') });
  reply(404, { error: 'not found' });
}

onStdin((cmd) => {
  const nsp = cmd.nsp || '/';
  if (!NAMESPACES.includes(nsp)) return out({ ev: 'cmd_error', cmd, error: 'unknown namespace' });
  if (cmd.cmd === 'push') out({ ev: 'pushed', nsp, count: push(nsp, cmd.event || 'push', decode(cmd.args || [])) });
  else if (cmd.cmd === 'kick') out({ ev: 'kicked', nsp, count: kick(nsp, cmd.close) });
  else out({ ev: 'cmd_error', cmd, error: 'unknown cmd' });
});

server.listen(Number(opts.port || 0), '127.0.0.1', () => {
  out({ ready: true, port: server.address().port, version: Number(version), tls: Boolean(tls) });
});
