#!/usr/bin/env node
// The real @socket.io/redis-emitter (5.x), scripted by the Rust cluster tests
// through JSON lines: pushes to Socket.IO servers that share a Redis.
//
//   node emit.js --redis redis://127.0.0.1:PORT
//
// Stdin commands, one JSON object per line (args may hold {"$bin":"<base64>"},
// sent as Buffers, i.e. msgpack bin):
//   {"cmd":"emit","nsp":"/chat","to":["r1"],"except":["r2"],"event":"news","args":[1]}
//   {"cmd":"join","nsp":"/chat","to":["<sid>"],"rooms":["r3"]}     socketsJoin
//   {"cmd":"leave","nsp":"/chat","to":["<sid>"],"rooms":["r3"]}    socketsLeave
//   {"cmd":"disconnect","nsp":"/chat","to":["<sid>"],"close":false}
// Stdout lines: {"ev":"ready"} once connected, then {"ev":"done","cmd":...}
// after each command has reached Redis (a PING after the PUBLISH on the same
// connection has been answered). The process exits when stdin closes.
'use strict';

const { createClient } = require('redis');
const { Emitter } = require('@socket.io/redis-emitter');
const { parseArgs, die, decode, out, onStdin } = require('./lib');

const opts = parseArgs(process.argv.slice(2));
if (!opts.redis) die('--redis is required');

async function main() {
  const client = createClient({ url: opts.redis });
  client.on('error', (e) => out({ ev: 'redis_error', message: e.message }));
  await client.connect();
  const root = new Emitter(client);
  out({ ev: 'ready' });
  onStdin((cmd) => {
    let op = root.of(cmd.nsp || '/');
    if (cmd.to && cmd.to.length) op = op.to(cmd.to);
    if (cmd.except && cmd.except.length) op = op.except(cmd.except);
    switch (cmd.cmd) {
      case 'emit': op.emit(cmd.event, ...decode(cmd.args || [])); break;
      case 'join': op.socketsJoin(cmd.rooms); break;
      case 'leave': op.socketsLeave(cmd.rooms); break;
      case 'disconnect': op.disconnectSockets(!!cmd.close); break;
      default: out({ ev: 'cmd_error', cmd, error: 'unknown cmd' }); return;
    }
    client.ping().then(
      () => out({ ev: 'done', cmd: cmd.cmd }),
      (e) => out({ ev: 'cmd_error', cmd, error: e.message }),
    );
  });
}

main().catch((e) => die(e.stack || String(e)));
