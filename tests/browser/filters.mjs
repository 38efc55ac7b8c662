// The findings list's filters and paging: each filter narrows the table to rows
// that match it, the URL carries the filters (a saved filter is the URL, and
// opening it again shows the same rows), and the next page shows other rows.
//
// KEIBI_RESOLVED: a finding the test resolved, the only resolved one.

import * as k from './lib.mjs';

const browser = await k.launch();
try {
  const ctx = await k.context(browser);
  const page = await ctx.newPage();
  const w = k.watch(page);
  await k.visit(page, '/login');
  await k.login(page);
  await k.visit(page, '/findings');

  const rows = () => page.locator('main table tbody tr');
  const ids = async () => page.evaluate(() => [...document.querySelectorAll('main table tbody tr a[href^="/findings/"]')].map((a) => a.getAttribute('href')));
  const all = await rows().count();
  k.check(all > 0, 'the findings page shows no rows');
  const firstPage = await ids();
  k.ok(`findings: ${all} rows on the first page`);

  // Paging: a next-page link, other rows there, and back.
  const next = page.getByRole('link', { name: /next|次/i }).first();
  k.check((await next.count()) > 0, 'no link to the next page of findings');
  await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), next.click()]);
  const second = await ids();
  k.check(second.length > 0 && second.every((h) => !firstPage.includes(h)), 'the next page shows rows of the first page');
  k.ok(`page 2 (${new URL(page.url()).search}): ${second.length} other rows`);
  await w.assertClean('paging');

  // Each filter through the form: choose, apply, every row matches, the URL says it.
  async function filter(label, option, rowMatch, param) {
    await k.visit(page, '/findings');
    const field = page.getByLabel(label).first();
    k.check((await field.count()) > 0, `no filter field labelled ${label}`);
    const tag = await field.evaluate((el) => el.localName);
    if (tag === 'select') await field.selectOption({ label: option }).catch(async () => field.selectOption(option));
    else await field.fill(option);
    await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), page.getByRole('button', { name: /filter|apply|絞り込み|適用/i }).first().click()]);
    const url = new URL(page.url());
    k.check(url.searchParams.has(param), `the URL does not carry the ${param} filter: ${url.search}`);
    const texts = await rows().allInnerTexts();
    k.check(texts.length > 0, `the ${param}=${option} filter left no rows`);
    const bad = texts.filter((t) => !rowMatch.test(t));
    k.check(bad.length === 0, `rows that do not match ${param}=${option}: ${bad.slice(0, 2).join(' | ')}`);
    // The URL alone gives the same rows (a saved filter).
    const again = await ctx.newPage();
    await again.goto(page.url(), { waitUntil: 'load' });
    const sameIds = await again.evaluate(() => [...document.querySelectorAll('main table tbody tr a[href^="/findings/"]')].map((a) => a.getAttribute('href')));
    k.check(JSON.stringify(sameIds) === JSON.stringify(await ids()), `opening ${url.search} again shows other rows`);
    await again.close();
    k.ok(`${param}=${option}: ${texts.length} matching rows, URL ${url.search}`);
    return texts.length;
  }
  await filter(/severity|重要度/i, 'Critical', /critical|重大/i, 'severity');
  await filter(/type|種類|タイプ/i, 'CredentialAccess:RDS/BruteForce', /brute force|総当たり|BruteForce/i, 'type');
  await w.assertClean('filters');

  // Status: the test resolved one finding through the CLI (KEIBI_RESOLVED); the
  // resolved list is that finding alone, and the default list leaves it out.
  const resolvedId = process.env.KEIBI_RESOLVED;
  if (resolvedId) {
    await k.visit(page, '/findings');
    await page.getByLabel(/status|状態|ステータス/i).first().selectOption('resolved');
    await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), page.getByRole('button', { name: /filter|apply|絞り込み|適用/i }).first().click()]);
    k.check(new URL(page.url()).searchParams.get('status') === 'resolved', `the URL does not carry status=resolved: ${page.url()}`);
    const got = await ids();
    k.check(got.length === 1 && got[0] === `/findings/${resolvedId}`, `status=resolved should list /findings/${resolvedId} alone, not ${got.join(' ')}`);
    k.check(!firstPage.includes(`/findings/${resolvedId}`), 'the default list shows a resolved finding');
    k.ok('status=resolved: the one resolved finding, which the default list leaves out');
  }
  await w.assertClean('status filter');
} finally {
  await browser.close();
}
k.ok('filters done');
