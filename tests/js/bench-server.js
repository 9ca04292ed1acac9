#!/usr/bin/env node
// The Node socket.io 4 baseline for siogate's load generator (benches/load):
// the same surface as `siogate standalone --allow-join-leave` and a plain
// echo upstream for `siogate proxy`, with no per-event logging so Node is
// measured rather than its stdout.
//
//   node bench-server.js [--port 0] [--api-token T] [--redis redis://HOST:PORT]
//
// With --redis it is one node of a cluster: @socket.io/redis-adapter on that
// Redis (the baseline of the cluster-fanout scenario); "delivered" then
// counts this node's recipients only, as siogate's does.
//
// Namespace `/`:
//   join R | [R...]  -> socket.join(R); ack({ok: true}) when asked
//   leave R          -> socket.leave(R); ack({ok: true}) when asked
//   echo X           -> ack(X)
// HTTP (beside /socket.io/), the push API subset the generator uses:
//   POST /api/v1/emit  Authorization: Bearer T
//     {"namespace":"/","event":"news","args":[...],"rooms":["r1"],"except":[...]}
//     -> {"delivered": N}
// Stdout: one line {"ready":true,"port":N} once listening. The process exits
// when stdin closes, so a dead generator never leaks a server.
'use strict';

const http = require('http');
const crypto = require('crypto');
const { Server } = require('sio-server-4');
const { parseArgs, out, onStdin } = require('./lib');

const opts = parseArgs(process.argv.slice(2));
const token = Buffer.from(`Bearer ${opts['api-token'] || 'T'}`);
const server = http.createServer(onHttp);
const io = new Server(server, { serveClient: false });

io.on('connection', (socket) => {
  socket.on('join', (rooms, ack) => {
    socket.join(rooms);
    if (typeof ack === 'function') ack({ ok: true });
  });
  socket.on('leave', (room, ack) => {
    socket.leave(room);
    if (typeof ack === 'function') ack({ ok: true });
  });
  socket.on('echo', (arg, ack) => { if (typeof ack === 'function') ack(arg); });
});

function authorized(req) {
  const got = Buffer.from(req.headers.authorization || '');
  return got.length === token.length && crypto.timingSafeEqual(got, token);
}

// Recipients of an emit without enumerating sockets: the sizes of the
// target rooms (the generator's rooms never overlap).
function countRecipients(nsp, rooms) {
  if (!rooms.length) return nsp.sockets.size;
  return rooms.reduce((n, r) => n + (nsp.adapter.rooms.get(r)?.size || 0), 0);
}

function onHttp(req, res) {
  const reply = (status, body) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  if (req.method !== 'POST' || req.url !== '/api/v1/emit') return reply(404, { error: 'not found' });
  if (!authorized(req)) return reply(401, { error: 'unauthorized' });
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    let body;
    try { body = JSON.parse(Buffer.concat(chunks)); } catch (e) { return reply(400, { error: e.message }); }
    if (!body || typeof body.event !== 'string') return reply(400, { error: 'event must be a string' });
    const nsp = io.of(body.namespace || '/');
    const rooms = body.rooms || [];
    let op = nsp;
    if (rooms.length) op = op.to(rooms);
    if (body.except && body.except.length) op = op.except(body.except);
    op.emit(body.event, ...(body.args || []));
    reply(200, { delivered: countRecipients(nsp, rooms) });
  });
}

onStdin(() => {});

async function useRedis(url) {
  const { createClient } = require('redis');
  const { createAdapter } = require('@socket.io/redis-adapter');
  const pub = createClient({ url });
  const sub = pub.duplicate();
  pub.on('error', (e) => process.stderr.write(`redis: ${e.message}\n`));
  sub.on('error', (e) => process.stderr.write(`redis: ${e.message}\n`));
  await Promise.all([pub.connect(), sub.connect()]);
  io.adapter(createAdapter(pub, sub));
}

(opts.redis ? useRedis(opts.redis) : Promise.resolve()).then(() => {
  server.listen(Number(opts.port || 0), '127.0.0.1', 1024, () => {
    out({ ready: true, port: server.address().port });
  });
}, (e) => { process.stderr.write(`${e.stack || e}\n`); process.exit(1); });
