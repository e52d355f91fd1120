// Scratch receiver for trying hookproof load's LOAD-01 verdicts against a
// stack other than Go's. One process, one behaviour, chosen by MODE:
//
//   delay     every answer after DELAY ms (setTimeout: async, no thread held)
//   step      at once for the first STEP_AFTER ms after the first request,
//             then every answer after DELAY ms
//   stall     for STALL ms out of every PERIOD ms (from the first request)
//             every answer is held until the window ends, otherwise at once
//   phases    for SLOW_FOR ms out of every PERIOD ms (from the first
//             request, slow part first after STEP_AFTER) every answer
//             after DELAY ms, otherwise at once
//   fast      at once
//   every10   every 10th request held HOLD ms, the rest at once
//   r429      30 % of requests answered 429 with Retry-After: 1
//
// The peak of requests in flight (received, answer not yet finished) is the
// figure the generator's concurrency shows at the receiver: GET /stats
// returns it (GET /stats?reset=1 zeroes it), and SIGTERM prints it.
'use strict';
const http = require('http');

const MODE = process.env.MODE || 'fast';
const PORT = +(process.env.PORT || 18080);
const DELAY = +(process.env.DELAY || 450);
const STEP_AFTER = +(process.env.STEP_AFTER || 3000);
const STALL = +(process.env.STALL || 200);
const PERIOD = +(process.env.PERIOD || 2000);
const HOLD = +(process.env.HOLD || 2000);
const SLOW_FOR = +(process.env.SLOW_FOR || 1000);

let inflight = 0, peak = 0, count = 0, codes = {};
// Open connections, their peak and how many were opened: node reads one
// request at a time, so a fast answer leaves the in-flight count near 1
// whatever the generator sends at once; each of the generator's workers
// holds a connection, and their count is what shows its concurrency then.
let conns = 0, peakConns = 0, opened = 0;
let first = 0; // ms of the first /hook request, the origin of step and stall
// The in-flight count per 100 ms of the run, the highest seen in each, so
// a stall's or a step's effect on the generator can be read off in time.
let series = [];

function answer(res, code, headers) {
  res.writeHead(code, Object.assign({ 'Content-Type': 'application/json', 'Content-Length': 2 }, headers || {}));
  res.end('{}');
}

function stats() {
  return { mode: MODE, requests: count, inflight, peak, conns, peakConns, opened, codes, series };
}

const server = http.createServer((req, res) => {
  if (req.method === 'GET' && req.url.startsWith('/stats')) {
    const body = JSON.stringify(stats());
    if (req.url.includes('reset=1')) { peak = 0; count = 0; codes = {}; first = 0; series = []; peakConns = conns; opened = 0; }
    res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
    res.end(body);
    return;
  }
  const now = Date.now();
  if (first === 0) first = now;
  count++;
  inflight++;
  if (inflight > peak) peak = inflight;
  const slot = Math.floor((now - first) / 100);
  if (!(series[slot] >= inflight)) series[slot] = inflight;
  let done = false;
  const finish = () => { if (!done) { done = true; inflight--; } };
  res.on('finish', finish);
  res.on('close', finish);
  const n = count;
  // The body is read to its end before answering, as a real receiver would.
  req.on('data', () => {});
  req.on('end', () => {
    let code = 200, headers, wait = 0;
    const t = Date.now() - first;
    switch (MODE) {
      case 'delay': wait = DELAY; break;
      case 'step': wait = t >= STEP_AFTER ? DELAY : 0; break;
      case 'stall': {
        const in_ = t % PERIOD;
        // The window opens PERIOD-STALL into each period, so the first
        // one falls after the generator has settled.
        const open = PERIOD - STALL;
        if (in_ >= open) wait = PERIOD - in_;
        break;
      }
      case 'phases':
        if (t >= STEP_AFTER && (t - STEP_AFTER) % PERIOD < SLOW_FOR) wait = DELAY;
        break;
      case 'every10': if (n % 10 === 0) wait = HOLD; break;
      case 'r429':
        if (Math.random() < 0.3) { code = 429; headers = { 'Retry-After': '1' }; }
        break;
    }
    codes[code] = (codes[code] || 0) + 1;
    if (wait > 0) setTimeout(() => answer(res, code, headers), wait);
    else answer(res, code, headers);
  });
});
// Connections stay as long as the generator keeps them: node's 5 s default
// would close idle ones between runs only, but say so rather than rely on it.
server.on('connection', (sock) => {
  conns++; opened++;
  if (conns > peakConns) peakConns = conns;
  sock.on('close', () => { conns--; });
});
server.keepAliveTimeout = 60000;
server.headersTimeout = 65000;
server.maxRequestsPerSocket = 0;
server.listen(PORT, '127.0.0.1', () => console.log(`recv ${MODE} listening on ${PORT}`));
process.on('SIGTERM', () => {
  const s = stats();
  delete s.series;
  console.log('peak in flight ' + peak + ' ' + JSON.stringify(s));
  process.exit(0);
});
