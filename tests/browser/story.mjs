// The Slack-link story (issue 19's "done when"): a person follows a
// notification's link to a brute-force finding without a session, logs in, lands
// back on the finding, reads its timeline, follows it to the attacking address,
// comes back and resolves the finding with a note. The test then asks the CLI
// (`keibi findings show`) whether the store agrees.
//
// KEIBI_FINDING: the finding's id; KEIBI_TITLE: its title; KEIBI_ACTOR_IP: its
// address; KEIBI_NOTE: the note to resolve with; KEIBI_TIMELINE_TEXT: a statement the attacker ran after
// the brute force, which the finding's timeline must show.

import * as k from './lib.mjs';

const id = process.env.KEIBI_FINDING;
const ip = process.env.KEIBI_ACTOR_IP;
const noteText = process.env.KEIBI_NOTE || 'password rotated, address blocked';
const timelineText = process.env.KEIBI_TIMELINE_TEXT;
k.check(id && ip, 'KEIBI_FINDING and KEIBI_ACTOR_IP are needed');

const browser = await k.launch();
try {
  const ctx = await k.context(browser);
  const page = await ctx.newPage();
  const w = k.watch(page);
  const findingPath = `/findings/${id}`;

  // A click on a link in another site's page (Slack's, served here by the
  // browser itself): a cross-site navigation, on which the browser does not send
  // SameSite=Strict cookies.
  await ctx.route('http://slack.example/**', (r) =>
    r.fulfill({ contentType: 'text/html', body: `<!doctype html><title>Slack</title><p>keibi: <a href="${k.URL_BASE}${r.request().url().slice('http://slack.example'.length)}">a finding</a></p>` }),
  );
  async function fromSlack(path) {
    await page.goto(`http://slack.example${path}`);
    await page.getByRole('link').first().click();
    // The dashboard may load the page again from itself first (the session
    // cookie is not sent on a link from another site): wait for where it ends.
    // The reload page has no <main>; the login page and the finding have.
    await page.waitForURL((u) => u.origin === k.URL_BASE);
    await page.locator('main').first().waitFor({ state: 'attached' });
    await page.waitForLoadState('load');
    w.offsite.splice(0);
  }

  // 1. The link from Slack, without a session: the login page.
  await fromSlack(findingPath);
  k.check(new URL(page.url()).pathname === '/login', `without a session ${findingPath} should lead to /login, not ${page.url()}`);
  k.ok(`the link without a session leads to ${new URL(page.url()).pathname}${new URL(page.url()).search}`);

  // 2. Log in: back on the finding.
  await k.login(page);
  k.check(new URL(page.url()).pathname === findingPath, `after logging in the browser should be back on ${findingPath}, not ${page.url()}`);
  const h1 = (await page.getByRole('heading', { level: 1 }).first().innerText()).trim();
  const title = process.env.KEIBI_TITLE;
  k.check(h1 && (!title || h1 === title), `the finding page's heading should be the finding's title "${title}", not "${h1}"`);
  k.ok(`logged in, back on the finding: ${h1}`);
  await w.assertClean('the finding page');

  // 3. The timeline explains what happened: the failures and what the attacker
  // ran once in.
  const timeline = page.getByRole('heading', { name: /timeline|タイムライン/i }).first();
  k.check((await timeline.count()) > 0, 'the finding page has no timeline heading');
  const text = await page.locator('body').innerText();
  if (timelineText) {
    k.check(text.includes(timelineText), `the finding's timeline should show what ${ip} ran after logging in: ${timelineText}`);
    k.ok(`the timeline shows "${timelineText}"`);
  }

  // 4. Follow the address to its actor page, which lists this finding.
  const actorLink = page.locator(`a[href="/actors/ip/${ip}"]`).first();
  k.check((await actorLink.count()) > 0, `no link to /actors/ip/${ip} on the finding page`);
  await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), actorLink.click()]);
  k.check(new URL(page.url()).pathname === `/actors/ip/${ip}`, `the actor link led to ${page.url()}`);
  k.check((await page.locator(`a[href="${findingPath}"]`).count()) > 0, `the actor page of ${ip} does not link back to ${findingPath}`);
  const actorText = await page.locator('body').innerText();
  k.check(/timeline|タイムライン/i.test(actorText), `the actor page of ${ip} has no timeline`);
  k.ok(`the actor page of ${ip} lists the finding and has a timeline`);
  await w.assertClean('the actor page');

  // 5. Back, and resolve with a note.
  await page.goBack({ waitUntil: 'load' });
  k.check(new URL(page.url()).pathname === findingPath, `back should return to ${findingPath}, not ${page.url()}`);
  const resolveButton = page.getByRole('button', { name: /^\s*(resolve|解決)/i }).first();
  k.check((await resolveButton.count()) > 0, 'no Resolve button on the finding page');
  const form = page.locator('form', { has: resolveButton });
  const note = form.getByLabel(/note|メモ/i);
  if ((await note.count()) > 0) {
    await note.first().fill(noteText);
  } else {
    await page.getByLabel(/note|メモ/i).first().fill(noteText);
  }
  await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), resolveButton.click()]);
  k.check(new URL(page.url()).pathname === findingPath, `resolving should come back to ${findingPath}, not ${page.url()}`);
  const after = await page.locator('body').innerText();
  k.check(/resolved|解決済み/i.test(after), 'the finding page does not say resolved after resolving');
  k.check(after.includes(noteText), `the finding page does not show the note "${noteText}"`);
  k.ok('resolved with a note; the page says so');
  await w.assertClean('the finding page after resolving');

  // 6. The next Slack link, with the session open.
  await fromSlack(findingPath);
  const again = new URL(page.url()).pathname;
  k.check(again === findingPath, `a second Slack link with the session open should open the finding, not ${again}`);
  k.ok('a second Slack link with the session open goes straight to the finding');
} finally {
  await browser.close();
}
k.ok('story done');
