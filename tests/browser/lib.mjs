// What every browser script shares: starting Debian's Chromium through
// playwright-core (never a downloaded browser), logging in, watching a page for
// anything that must not happen (a dialog, a script error, a CSP violation), the
// DOM checks of the hostile-payload test, and axe-core.
//
// The scripts are run by crates/keibi/tests/dashboard_browser.rs with:
//   KEIBI_URL       the dashboard, http://127.0.0.1:PORT
//   KEIBI_USER, KEIBI_PASSWORD   a responder's login
//   KEIBI_CHROMIUM  the browser (default /usr/bin/chromium)
//   KEIBI_OUT       a directory for screenshots and reports
// A script prints one line per step ("ok ...", "note ...") and exits 1 with
// "FAIL ..." on the first failed check.

import { chromium } from 'playwright-core';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

export const URL_BASE = must('KEIBI_URL').replace(/\/$/, '');
export const USER = process.env.KEIBI_USER || '';
export const PASSWORD = process.env.KEIBI_PASSWORD || '';
export const OUT = process.env.KEIBI_OUT || '.';

function must(name) {
  const v = process.env[name];
  if (!v) fail(`${name} is not set`);
  return v;
}

// Messages are bounded: a page may be full of megabyte payloads.
export function fail(msg) {
  console.log(`FAIL ${String(msg).slice(0, 2000)}`);
  process.exit(1);
}

export function ok(msg) {
  console.log(`ok ${msg}`);
}

export function note(msg) {
  console.log(`note ${String(msg).slice(0, 2000)}`);
}

export function check(cond, msg) {
  if (!cond) fail(msg);
}

// Chromium with the flags of the test guide; Playwright gives it a fresh,
// temporary user-data directory, removed when the browser closes.
export async function launch() {
  return chromium.launch({
    executablePath: process.env.KEIBI_CHROMIUM || '/usr/bin/chromium',
    headless: true,
    chromiumSandbox: false,
    timeout: 60_000,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
      '--disable-sync',
    ],
  });
}

// A context of 1280×800 in `locale` (Chromium sends it as Accept-Language).
export async function context(browser, locale = 'en-US') {
  const ctx = await browser.newContext({
    viewport: { width: 1280, height: 800 },
    locale,
    timezoneId: 'UTC',
  });
  ctx.setDefaultTimeout(30_000);
  // Every CSP violation, recorded in the page before any of its scripts run.
  await ctx.addInitScript(() => {
    window.__keibiViolations = [];
    document.addEventListener('securitypolicyviolation', (e) => {
      window.__keibiViolations.push(`${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`);
    });
  });
  return ctx;
}

// Watches `page` for what must never happen on a dashboard page: a dialog (an
// injected alert() that ran), an uncaught script error, a console error (CSP
// violations are reported there too), a request to another origin, a resource
// of the page that failed.
export function watch(page) {
  const w = { dialogs: [], errors: [], console: [], offsite: [], missing: [] };
  page.on('dialog', async (d) => {
    w.dialogs.push(`${d.type()}: ${d.message()}`);
    await d.dismiss().catch(() => {});
  });
  page.on('pageerror', (e) => w.errors.push(String(e).slice(0, 300)));
  // A resource that failed is reported by its URL below (the console only says
  // "Failed to load resource"); the favicon Chromium asks for on its own is not
  // the page's.
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) w.console.push(m.text().slice(0, 300));
  });
  page.on('response', (r) => {
    const u = r.url();
    if (r.status() >= 400 && r.request().resourceType() !== 'document' && !u.endsWith('/favicon.ico')) {
      w.missing.push(`${r.status()} ${u.slice(0, 200)}`);
    }
  });
  page.on('request', (r) => {
    const u = r.url();
    if (!u.startsWith(URL_BASE) && !u.startsWith('data:') && !u.startsWith('about:')) w.offsite.push(u.slice(0, 200));
  });
  w.assertClean = async (what) => {
    const violations = await page.evaluate(() => window.__keibiViolations || []).catch(() => []);
    check(w.dialogs.length === 0, `${what}: a dialog fired: ${w.dialogs.join(' | ')}`);
    check(w.errors.length === 0, `${what}: script errors: ${w.errors.join(' | ')}`);
    check(violations.length === 0, `${what}: CSP violations: ${violations.join(' | ')}`);
    check(w.console.length === 0, `${what}: console errors: ${w.console.join(' | ')}`);
    check(w.offsite.length === 0, `${what}: requests to another origin: ${w.offsite.join(' | ')}`);
    check(w.missing.length === 0, `${what}: resources that failed: ${w.missing.join(' | ')}`);
  };
  return w;
}

// Goes to `path` and checks the answer is a page (2xx).
export async function visit(page, path) {
  const res = await page.goto(URL_BASE + path, { waitUntil: 'load' });
  check(res && res.ok(), `GET ${path}: ${res ? res.status() : 'no response'}`);
  return res;
}

// The login form, whatever page it was reached from.
export async function login(page, user = USER, password = PASSWORD) {
  await page.getByLabel(/user|ユーザー/i).first().fill(user);
  await page.getByLabel(/password|パスワード/i).first().fill(password);
  await Promise.all([
    page.waitForNavigation({ waitUntil: 'load' }),
    page.getByRole('button', { name: /log ?in|sign ?in|ログイン/i }).click(),
  ]);
}

// The DOM holds nothing a payload could have put there: every <script> is one of
// ours (an external file under /assets/), no element carries an event-handler
// attribute, no link or form points at a javascript:/data:/vbscript: URL, no
// element the payloads name (their ids and classes start with "kpwn"), no frame,
// object, embed, base or meta refresh, no <style> or stylesheet of another
// origin. Returns the list of problems.
export async function domProblems(page) {
  return page.evaluate(() => {
    const problems = [];
    const origin = location.origin;
    for (const s of document.querySelectorAll('script')) {
      const src = s.getAttribute('src') || '';
      if (!src || !new URL(src, location.href).href.startsWith(origin + '/assets/')) {
        problems.push(`script ${src || '(inline) ' + s.textContent.slice(0, 80)}`);
      }
    }
    for (const el of document.querySelectorAll('*')) {
      for (const a of el.attributes) {
        const name = a.name.toLowerCase();
        if (name.startsWith('on')) problems.push(`<${el.localName} ${name}=${a.value.slice(0, 60)}>`);
        if (['href', 'src', 'action', 'formaction', 'xlink:href', 'srcdoc', 'data'].includes(name)) {
          const v = a.value.replace(/[\u0000-\u0020\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]/g, '').toLowerCase();
          if (/^(javascript|vbscript|data):/.test(v) && !(el.localName === 'img' && v.startsWith('data:image/'))) {
            problems.push(`<${el.localName} ${name}=${a.value.slice(0, 60)}>`);
          }
        }
      }
      const id = (el.id || '').toLowerCase();
      const cls = typeof el.className === 'string' ? el.className.toLowerCase() : '';
      if (id.startsWith('kpwn') || cls.includes('kpwn') || el.hasAttribute('data-kpwn')) {
        problems.push(`payload element <${el.localName} id=${id} class=${cls}>`);
      }
    }
    for (const sel of ['iframe', 'frame', 'object', 'embed', 'base', 'meta[http-equiv]', 'applet', 'portal']) {
      for (const el of document.querySelectorAll(sel)) problems.push(`<${el.localName}> ${el.outerHTML.slice(0, 80)}`);
    }
    for (const el of document.querySelectorAll('style')) problems.push(`<style> ${el.textContent.slice(0, 80)}`);
    for (const el of document.querySelectorAll('link[rel~=stylesheet]')) {
      if (!el.href.startsWith(origin + '/assets/')) problems.push(`stylesheet ${el.href}`);
    }
    return problems;
  });
}

// axe-core's rules on the page as it is. Run through the DevTools protocol
// (page.evaluate), which the page's CSP does not apply to, so nothing is relaxed
// for the page itself.
const require = createRequire(import.meta.url);
const AXE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

export async function axe(page) {
  await page.evaluate(AXE);
  return page.evaluate(async () => {
    const r = await window.axe.run(document, { resultTypes: ['violations'] });
    return r.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.slice(0, 3).map((n) => n.target.join(' ')),
      count: v.nodes.length,
    }));
  });
}

// The first link whose href starts with `prefix`, as a path.
export async function firstLink(page, prefix) {
  const hrefs = await page.evaluate(
    (p) => [...document.querySelectorAll('a[href]')].map((a) => a.getAttribute('href')).filter((h) => h.startsWith(p)),
    prefix,
  );
  return hrefs[0];
}

// Every distinct same-origin link path on the page starting with one of `prefixes`.
export async function links(page, prefixes) {
  return page.evaluate((ps) => {
    const out = new Set();
    for (const a of document.querySelectorAll('a[href]')) {
      const h = a.getAttribute('href');
      if (ps.some((p) => h.startsWith(p))) out.add(h);
    }
    return [...out];
  }, prefixes);
}
