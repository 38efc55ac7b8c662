// Page times of the dashboard over a large store (benches/dashboard.sh fills it):
// logs in once, then loads each main page KEIBI_LOADS times (default 20) with
// fetch() in the page (the session's cookie, the whole answer read, no
// rendering) and once in the browser to its load event, and prints median and
// p95 per page.
//
// The pages: the overview, the findings' first page, a filtered list, page 200,
// a finding, its address and its user; and the login with the overview's first
// (uncached) load. KEIBI_FILTER: the query of the filtered list.

import * as k from './lib.mjs';

const loads = Number(process.env.KEIBI_LOADS || 20);
const filtered = process.env.KEIBI_FILTER || 'severity=critical&type=Execution%3ARDS%2FServerSideCommand';

function pct(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

const browser = await k.launch();
const rows = [];
let coldMs = 0;
try {
  const ctx = await k.context(browser);
  const page = await ctx.newPage();
  await k.visit(page, '/login');
  // The login lands on the overview: its first load after the start, before
  // anything is cached.
  const t0 = performance.now();
  await k.login(page);
  coldMs = performance.now() - t0;
  k.check(new URL(page.url()).pathname === '/', `the login landed on ${page.url()}`);
  await k.visit(page, '/findings');
  const finding = (await k.links(page, ['/findings/'])).find((h) => /^\/findings\/[0-9a-f]+$/.test(h));
  k.check(finding, 'the findings page links to no finding');
  await k.visit(page, finding);
  const actor = await k.firstLink(page, '/actors/ip/');
  k.check(actor, `${finding} links to no address`);
  const user = await k.firstLink(page, '/actors/user/');
  k.check(user, `${finding} links to no user`);
  const pages = [
    ['overview', '/'],
    ['findings', '/findings'],
    ['filtered', `/findings?${filtered}`],
    ['page 200', '/findings?page=200'],
    ['finding', finding],
    ['address', actor],
    ['user', user],
  ];
  for (const [name, path] of pages) {
    const times = [];
    let bytes = 0;
    for (let i = 0; i < loads; i++) {
      // fetch() in the page: the session cookie as the browser sends it, the
      // whole answer read, nothing rendered.
      const [ms, status, size] = await page.evaluate(async (u) => {
        const t = performance.now();
        const r = await fetch(u, { redirect: 'manual', cache: 'no-store' });
        const b = await r.arrayBuffer();
        return [performance.now() - t, r.status, b.byteLength];
      }, k.URL_BASE + path);
      k.check(status === 200, `GET ${path}: ${status}`);
      times.push(ms);
      bytes = size;
    }
    times.sort((a, b) => a - b);
    const t = performance.now();
    await k.visit(page, path);
    const browserMs = performance.now() - t;
    rows.push({ name, path, median: pct(times, 50), p95: pct(times, 95), browserMs, bytes });
  }
} finally {
  await browser.close();
}
console.log(`${'page'.padEnd(10)} ${'median ms'.padStart(10)} ${'p95 ms'.padStart(8)} ${'browser ms'.padStart(11)} ${'bytes'.padStart(9)}  path`);
for (const r of rows) {
  console.log(`${r.name.padEnd(10)} ${r.median.toFixed(1).padStart(10)} ${r.p95.toFixed(1).padStart(8)} ${r.browserMs.toFixed(0).padStart(11)} ${String(r.bytes).padStart(9)}  ${r.path}`);
}
console.log(`the login and the overview's first load (uncached): ${coldMs.toFixed(0)} ms`);
k.ok('bench done');
