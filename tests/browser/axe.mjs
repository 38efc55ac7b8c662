// axe-core on the main pages: the login page, the overview, the findings list, a
// finding, an actor, the suppressions. A violation of serious or critical impact
// fails; moderate and minor ones are printed as notes for the report.
//
// KEIBI_FINDING: a finding to open (its first actor link is the actor page).

import * as k from './lib.mjs';

const id = process.env.KEIBI_FINDING;
k.check(id, 'KEIBI_FINDING is needed');

const browser = await k.launch();
const serious = [];
try {
  for (const locale of ['en-US', 'ja-JP']) {
    const ctx = await k.context(browser, locale);
    const page = await ctx.newPage();
    const w = k.watch(page);
    async function audit(name) {
      const v = await k.axe(page);
      for (const x of v) {
        const line = `${locale} ${name}: ${x.impact} ${x.id} (${x.count}): ${x.help} at ${x.nodes.join(', ')}`;
        if (x.impact === 'serious' || x.impact === 'critical') serious.push(line);
        else k.note(line);
      }
      await w.assertClean(name);
      k.ok(`${locale} ${name}: ${v.length} violation(s)`);
    }
    await k.visit(page, '/login');
    await audit('login');
    await k.login(page, locale === 'ja-JP' ? process.env.KEIBI_USER_JA || k.USER : k.USER);
    for (const [name, path] of [['overview', '/'], ['findings', '/findings'], ['finding', `/findings/${id}`]]) {
      await k.visit(page, path);
      await audit(name);
    }
    const actor = await k.firstLink(page, '/actors/');
    k.check(actor, 'the finding page links to no actor');
    await k.visit(page, actor);
    await audit(`actor ${actor}`);
    await k.visit(page, '/suppressions');
    await audit('suppressions');
    await ctx.close();
  }
} finally {
  await browser.close();
}
k.check(serious.length === 0, `serious or critical accessibility violations:\n${serious.join('\n')}`);
k.ok('axe done');
