// The screenshots of docs/dashboard-screenshots.md, 1280×800: login, overview,
// findings, a finding (its top and its timeline), an actor, and the overview in
// Japanese. Written to KEIBI_SCREENSHOTS (docs/images to refresh the docs), else
// KEIBI_OUT.
//
// KEIBI_FINDING: the finding to show; KEIBI_USER_JA: a user whose language is
// Japanese.

import * as k from './lib.mjs';
import { mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const id = process.env.KEIBI_FINDING;
k.check(id, 'KEIBI_FINDING is needed');
const dir = process.env.KEIBI_SCREENSHOTS || k.OUT;
mkdirSync(dir, { recursive: true });

const browser = await k.launch();
const shots = [];
async function shot(page, name) {
  const path = join(dir, `dashboard-${name}.png`);
  await page.screenshot({ path, type: 'png', animations: 'disabled' });
  const size = statSync(path).size;
  shots.push(name);
  k.ok(`${path} ${size} bytes`);
}
try {
  const ctx = await k.context(browser, 'en-US');
  const page = await ctx.newPage();
  const w = k.watch(page);
  await k.visit(page, '/login');
  await shot(page, 'login');
  await k.login(page);
  await k.visit(page, '/');
  await shot(page, 'overview');
  await k.visit(page, '/findings');
  await shot(page, 'findings');
  await k.visit(page, `/findings/${id}`);
  await shot(page, 'finding');
  const timeline = page.getByRole('heading', { name: /timeline/i }).first();
  k.check((await timeline.count()) > 0, 'the finding page has no timeline heading');
  await page.evaluate(() => window.scrollTo(0, 0));
  await timeline.evaluate((el) => el.scrollIntoView({ block: 'start' }));
  await shot(page, 'finding-timeline');
  const actor = await k.firstLink(page, '/actors/ip/');
  k.check(actor, 'the finding page links to no address');
  await k.visit(page, actor);
  await shot(page, 'actor');
  await w.assertClean('screenshots');
  await ctx.close();

  const ja = await k.context(browser, 'ja-JP');
  const jpage = await ja.newPage();
  await k.visit(jpage, '/login');
  await k.login(jpage, process.env.KEIBI_USER_JA || k.USER);
  await k.visit(jpage, '/');
  k.check((await jpage.locator('html').getAttribute('lang')) === 'ja', 'the Japanese overview is not <html lang="ja">');
  await shot(jpage, 'overview-ja');
  await ja.close();
} finally {
  await browser.close();
}
k.ok(`screenshots done: ${shots.join(' ')}`);
