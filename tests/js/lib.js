// Shared helpers for the interop peers (upstream.js, client.js).
//
// The Rust tests talk to these scripts through JSON lines: commands on stdin,
// events on stdout. Binary values cross that boundary as {"$bin": "<base64>"}.
// Nothing here knows about Socket.IO versions.
'use strict';

const readline = require('readline');

// Minimal argv parser: `--flag value`, repeated flags collect into arrays
// when listed in `multi`, bare flags listed in `bools` become true.
function parseArgs(argv, { multi = [], bools = [] } = {}) {
  const out = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) die(`unexpected argument ${a}`);
    const key = a.slice(2);
    if (bools.includes(key)) { out[key] = true; continue; }
    if (i + 1 >= argv.length) die(`missing value for ${a}`);
    const val = argv[++i];
    if (multi.includes(key)) (out[key] = out[key] || []).push(val);
    else out[key] = val;
  }
  return out;
}

function die(msg) {
  process.stderr.write(`${msg}\n`);
  process.exit(2);
}

// Buffers (and ArrayBuffers / typed arrays, which socket.io-client may hand
// out under polling) become {"$bin": base64}; functions (ack callbacks) are
// dropped by the caller before encoding.
function encode(v) {
  if (Buffer.isBuffer(v)) return { $bin: v.toString('base64') };
  if (v instanceof ArrayBuffer) return { $bin: Buffer.from(v).toString('base64') };
  if (ArrayBuffer.isView(v)) return { $bin: Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64') };
  if (Array.isArray(v)) return v.map(encode);
  if (v && typeof v === 'object') {
    const o = {};
    for (const [k, x] of Object.entries(v)) o[k] = encode(x);
    return o;
  }
  return v === undefined ? null : v;
}

// Inverse of encode: {"$bin": base64} becomes a Buffer.
function decode(v) {
  if (Array.isArray(v)) return v.map(decode);
  if (v && typeof v === 'object') {
    if (typeof v.$bin === 'string' && Object.keys(v).length === 1) return Buffer.from(v.$bin, 'base64');
    const o = {};
    for (const [k, x] of Object.entries(v)) o[k] = decode(x);
    return o;
  }
  return v;
}

// One JSON object per stdout line; the Rust side parses each line.
function out(obj) {
  process.stdout.write(`${JSON.stringify(obj)}\n`);
}

// Calls onCmd(obj) for each JSON line on stdin and exits when stdin closes,
// so a test that dies (and drops the pipe) never leaks a peer.
function onStdin(onCmd) {
  const rl = readline.createInterface({ input: process.stdin });
  rl.on('line', (line) => {
    if (!line.trim()) return;
    let cmd;
    try { cmd = JSON.parse(line); } catch (e) { out({ ev: 'bad_cmd', line, error: e.message }); return; }
    try { onCmd(cmd); } catch (e) { out({ ev: 'cmd_error', cmd, error: e.message }); }
  });
  rl.on('close', () => process.exit(0));
}

module.exports = { parseArgs, die, encode, decode, out, onStdin };
