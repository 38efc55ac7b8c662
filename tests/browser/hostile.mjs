// Hostile payloads stay inert: over a store whose findings, evidence and timeline
// carry the payloads of findings.mjs, every page they appear on renders with no
// dialog, no script error, no CSP violation, no request elsewhere, and nothing in
// the DOM a payload made (lib.mjs's domProblems); the payload shows as text.
// Filters given hostile values in the URL are reflected inert too.

import * as k from './lib.mjs';
import { PAYLOADS } from './findings.mjs';

const browser = await k.launch();
let pages = 0;
let bidi = 0;
try {
  const ctx = await k.context(browser);
  const page = await ctx.newPage();
  const w = k.watch(page);

  const short = (p) => (p.length > 120 ? `${p.slice(0, 100)}… (${p.length} chars)` : p);
  async function inspect(path) {
    let res;
    try {
      res = await page.goto(k.URL_BASE + path, { waitUntil: 'load' });
    } catch (e) {
      // An error answer with no body (hyper's 414 for a path too long) is not
      // a page; ask for its status without the browser.
      const r = await ctx.request.get(k.URL_BASE + path, { maxRedirects: 0 }).catch(() => null);
      k.check(r && r.status() < 500, `GET ${short(path)}: ${String(e.message).slice(0, 200)}`);
      k.note(`GET ${short(path)}: ${r.status()} with no page`);
      return r.status();
    }
    const status = res ? res.status() : 0;
    // A hostile value may be refused (400/404) but never break the server.
    k.check(status > 0 && status < 500, `GET ${short(path)}: ${status}`);
    const problems = await k.domProblems(page);
    k.check(problems.length === 0, `${short(path)}: ${problems.slice(0, 5).join(' | ')}`);
    await w.assertClean(short(path));
    bidi += await page.evaluate(() => (document.body.innerText.match(/[\u202a-\u202e\u2066-\u2069]/g) || []).length);
    pages++;
    return status;
  }

  await page.goto(k.URL_BASE + '/login?next=' + encodeURIComponent('javascript:alert("kpwn-next")'), { waitUntil: 'load' });
  await k.login(page);
  k.check(new URL(page.url()).origin === k.URL_BASE, `login with a javascript: next went to ${page.url()}`);
  await w.assertClean('login with a hostile next');
  await page.goto(k.URL_BASE + '/login?next=' + encodeURIComponent('//evil.example/'), { waitUntil: 'load' });
  k.check(new URL(page.url()).origin === k.URL_BASE, `/login?next=//evil.example/ went to ${page.url()}`);
  k.ok('login refuses to send the browser elsewhere (javascript:, //evil.example/)');

  await inspect('/');
  // Every finding of the store, from the findings list (all statuses).
  const findings = new Set();
  for (let p = 1; p <= 5; p++) {
    await inspect(`/findings?status=all&page=${p}`);
    const before = findings.size;
    for (const h of await k.links(page, ['/findings/'])) findings.add(h.split('?')[0].split('#')[0]);
    if (findings.size === before) break;
  }
  k.check(findings.size >= PAYLOADS.length, `the findings list links to ${findings.size} findings, the store holds at least ${PAYLOADS.length}`);
  const actors = new Set();
  let escapedShown = false;
  for (const f of findings) {
    await inspect(f);
    for (const h of await k.links(page, ['/actors/', '/suppressions?'])) actors.add(h);
    const text = await page.locator('main').innerText().catch(() => '');
    if (text.includes('<script>alert("kpwn-script")</script>')) escapedShown = true;
  }
  k.ok(`${findings.size} finding pages inert`);
  k.check(escapedShown, 'no finding page shows <script>alert("kpwn-script")</script> as text: escaped payloads should stay readable');
  k.ok('payloads are shown as text');
  for (const a of actors) await inspect(a);
  k.ok(`${actors.size} actor pages and suppression rule builders filled from the findings inert`);
  for (const extra of ['/suppressions', '/settings']) {
    const s = await inspect(extra);
    k.ok(`${extra}: ${s}`);
  }
  // Filters and paths with payloads: reflected, never run.
  const keys = ['type', 'severity', 'status', 'resource', 'account', 'actor', 'user', 'ip', 'since', 'until', 'sort', 'page', 'q'];
  for (const p of PAYLOADS.slice(0, 14)) {
    const q = keys.map((key) => `${key}=${encodeURIComponent(p)}`).join('&');
    await inspect(`/findings?${q}`);
    await inspect(`/actors/user/${encodeURIComponent(p)}`);
    await inspect(`/actors/principal/${encodeURIComponent('arn:aws:iam::123456789012:user/' + p)}`);
  }
  k.ok('hostile filter values and actor paths are reflected inert');
} finally {
  await browser.close();
}
k.note(`bidi control characters left in the visible text of the pages: ${bidi}`);
k.ok(`hostile done: ${pages} pages`);
