// A minimal RiskOS webhook receiver in Express, written the way the RiskOS guide recommends:
// authenticate in constant time, bound the body, check the envelope, record the event durably
// under its event_id, acknowledge 200, and process it later on one worker loop.
//
// Environment: HOST (127.0.0.1), PORT (8083), AUTH=bearer|basic, BEARER_TOKEN, BASIC_USER,
// BASIC_PASSWORD, DATA_FILE (./events.jsonl), EFFECTS=1 to serve the test-only effects endpoint,
// NO_DEDUPE=1 for a deliberately broken variant that processes every copy, WORKER_DELAY_MS.
'use strict';

const crypto = require('node:crypto');
const fs = require('node:fs');
const express = require('express');

const BODY_LIMIT = 1 << 20;
const DATA_FILE = process.env.DATA_FILE || 'events.jsonl';
const NO_DEDUPE = process.env.NO_DEDUPE === '1';
const WORKER_DELAY_MS = Number(process.env.WORKER_DELAY_MS || 0);

// The durable store is one append-only JSON-lines file: {"accepted":{...}} when an event is
// first seen, {"processed":"id"} after its work is done. Replaying it on start restores the
// dedupe memory, the processed counts and the work that was acknowledged but not yet done.
// appendFileSync runs to completion before any other request is handled, so of concurrent
// copies exactly one finds the event_id unseen.
const seen = new Set();
const processed = new Map();
const queue = [];
if (fs.existsSync(DATA_FILE)) {
  const pending = [];
  for (const line of fs.readFileSync(DATA_FILE, 'utf8').split('\n')) {
    if (!line) continue;
    const rec = JSON.parse(line);
    if (rec.accepted) {
      seen.add(rec.accepted.event_id);
      pending.push(rec.accepted);
    } else if (rec.processed) {
      processed.set(rec.processed, (processed.get(rec.processed) || 0) + 1);
    }
  }
  const done = new Map(processed);
  for (const e of pending) {
    const left = done.get(e.event_id) || 0;
    if (left > 0) done.set(e.event_id, left - 1);
    else queue.push(e);
  }
}

let wake = null;
async function worker() {
  for (;;) {
    if (queue.length === 0) await new Promise((resolve) => { wake = resolve; });
    const e = queue.shift();
    // The business work this example stands in for.
    await new Promise((resolve) => setTimeout(resolve, WORKER_DELAY_MS));
    console.log(`processed event_id=${e.event_id} event_type=${e.event_type} event_at=${e.event_at}`);
    fs.appendFileSync(DATA_FILE, JSON.stringify({ processed: e.event_id }) + '\n');
    processed.set(e.event_id, (processed.get(e.event_id) || 0) + 1);
  }
}

function accept(e) {
  if (seen.has(e.event_id) && !NO_DEDUPE) return;
  fs.appendFileSync(DATA_FILE, JSON.stringify({ accepted: e }) + '\n');
  seen.add(e.event_id);
  queue.push(e);
  if (wake) { wake(); wake = null; }
}

function safeEqual(got, want) {
  // timingSafeEqual needs equal lengths; comparing digests keeps the time independent of both.
  const h = (s) => crypto.createHash('sha256').update(s).digest();
  return crypto.timingSafeEqual(h(got), h(want));
}

function authorized(req) {
  const got = req.get('authorization') || '';
  if (process.env.AUTH === 'basic') {
    const pair = `${process.env.BASIC_USER || ''}:${process.env.BASIC_PASSWORD || ''}`;
    return !!process.env.BASIC_PASSWORD && safeEqual(got, 'Basic ' + Buffer.from(pair).toString('base64'));
  }
  const token = process.env.BEARER_TOKEN || '';
  return token !== '' && safeEqual(got, 'Bearer ' + token);
}

const fail = (res, status, error) => res.status(status).json({ error });
const app = express();
app.disable('x-powered-by');

app.all('/webhooks/riskos', (req, res, next) => {
  if (req.method !== 'POST') return fail(res.set('Allow', 'POST'), 405, 'method not allowed');
  if (!authorized(req)) {
    const scheme = process.env.AUTH === 'basic' ? 'Basic' : 'Bearer';
    return fail(res.set('WWW-Authenticate', `${scheme} realm="riskos"`), 401, 'unauthorized');
  }
  const mediaType = (req.get('content-type') || '').split(';')[0].trim().toLowerCase();
  if (mediaType !== 'application/json') return fail(res, 415, 'expected application/json');
  next();
}, express.raw({ type: () => true, limit: BODY_LIMIT }), (req, res) => {
  let envelope;
  try {
    // fatal: invalid UTF-8 is malformed input, not something to repair silently.
    const text = new TextDecoder('utf-8', { fatal: true }).decode(Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0));
    envelope = JSON.parse(text);
  } catch {
    return fail(res, 400, 'malformed JSON');
  }
  if (envelope === null || typeof envelope !== 'object' || Array.isArray(envelope)) {
    return fail(res, 400, 'body is not a JSON object');
  }
  for (const name of ['event_id', 'event_type']) {
    if (typeof envelope[name] !== 'string' || envelope[name] === '') {
      return fail(res, 400, `${name} must be a non-empty string`);
    }
  }
  const { event_id, event_type } = envelope;
  const event_at = typeof envelope.event_at === 'string' ? envelope.event_at : null;
  try {
    accept({ event_id, event_type, event_at });
  } catch (err) {
    console.error('store:', err.message);
    // Retryable: RiskOS delivers again once storage is back.
    return fail(res.set('Retry-After', '1'), 503, 'try again');
  }
  res.status(200).json({ received: true });
});

if (process.env.EFFECTS === '1') {
  app.get('/_hookproof/effects', (req, res) => {
    const id = String(req.query.event_id || '');
    res.json({ event_id: id, count: processed.get(id) || 0 });
  });
}

// Body-parser errors carry their 4xx status (413 too large, 400 aborted); anything else is ours,
// answered retryably and without a stack trace.
app.use((err, req, res, _next) => {
  const status = err.status >= 400 && err.status < 500 ? err.status : 503;
  if (status === 503) {
    console.error('unhandled:', err.message);
    res.set('Retry-After', '1');
  }
  fail(res, status, status === 413 ? 'body too large' : 'request rejected');
});

worker();
const port = Number(process.env.PORT || 8083);
app.listen(port, process.env.HOST || '127.0.0.1', () => console.log(`listening on ${port}`));
