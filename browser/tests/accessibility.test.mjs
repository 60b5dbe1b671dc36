// axe-core finds no WCAG 2.1 A/AA violations on the login, consent, error and portal pages.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useAnyId, context, axe } from './harness.mjs';

const fx = useAnyId();

async function check(page, name) {
  const violations = await axe(page);
  assert.deepEqual(violations, [], `${name}: ${JSON.stringify(violations, null, 2)}`);
}

for (const locale of ['ko-KR', 'en-US']) {
  test(`login, consent, portal and error pages have no violations (${locale})`, async () => {
    const ctx = await context(fx.browser, { locale });
    const page = await ctx.newPage();
    // prompt=consent: the consent page shows on every pass, whatever was granted before.
    await page.goto(`${fx.anyid.demo}/login?prompt=consent`);
    await page.waitForSelector('[data-method="kakao"]');
    await check(page, 'login');
    await page.click('[data-method="kakao"]');
    await page.waitForSelector('form[action="/consent"]');
    await check(page, 'consent');
    await page.click('button[value="allow"]');
    await page.waitForURL(/\/demo\/callback/);
    await page.goto(`${fx.anyid.issuer}/account`);
    await page.waitForSelector('form[action="/account/action"]');
    await check(page, 'portal');
    // The citizen's rights: the readable download, suspending (the portal and a service's
    // refusal say so), signing in again to resume, and the confirmation a deletion needs.
    const exported = await page.request.get(`${fx.anyid.issuer}/account/export.html`);
    assert.equal(exported.status(), 200);
    const portalUrl = page.url();
    await page.setContent(await exported.text());
    await check(page, 'download');
    await page.goto(portalUrl);
    await page.click('input[name="suspend"] + button');
    await page.waitForSelector('a[href="/account/confirm?for=resume"]');
    await check(page, 'portal, suspended');
    await page.goto(`${fx.anyid.demo}/login`);
    await page.waitForSelector('[role="alert"]');
    await check(page, 'a service refused while suspended');
    await page.goto(`${fx.anyid.issuer}/account/confirm?for=resume`);
    await page.waitForSelector('[data-method="kakao"]');
    await check(page, 'sign in again');
    await page.click('[data-method="kakao"]');
    await page.waitForSelector('input[name="resume"] + button');
    await page.click('input[name="resume"] + button');
    await page.waitForSelector('input[name="suspend"]', { state: 'attached' });
    await page.goto(`${fx.anyid.issuer}/account/confirm?for=delete`);
    await check(page, 'confirm before deleting');
    await page.goto(portalUrl);
    await page.goto(`${fx.anyid.issuer}/authorize?client_id=nobody&redirect_uri=https%3A%2F%2Fevil.example%2F&response_type=code&scope=openid`);
    await check(page, 'error');
    await page.goto(`${fx.anyid.issuer}/logout`);
    await check(page, 'logout');
    await ctx.close();
  });

  test(`the citizen's "who used my data" page has no violations (${locale})`, async () => {
    const ctx = await context(fx.browser, { locale });
    const page = await ctx.newPage();
    // A sign-in to the demo service: a login and the details released to it.
    await page.goto(`${fx.anyid.demo}/login`);
    await page.waitForSelector('[data-method="kakao"]');
    await page.click('[data-method="kakao"]');
    const consent = await page.waitForSelector('form[action="/consent"], a[href*="/demo/logout"], h1');
    if (await page.$('form[action="/consent"]')) await page.click('button[value="allow"]');
    await page.waitForURL(/\/demo\/callback/);
    assert.ok(consent);
    await page.goto(`${fx.anyid.issuer}/account`);
    await page.click('a[href="/account/history"]');
    await page.waitForSelector('table caption');
    const rows = await page.$$('tbody tr');
    assert.ok(rows.length >= 2, 'the login and the release are listed');
    await check(page, 'history');
    await page.selectOption('#show', 'officials');
    await page.click('form.filters button[type="submit"]');
    await page.waitForURL(/show=officials/);
    await page.waitForSelector('p[role="status"]');
    await check(page, 'history, nothing to show');
    const csv = await page.request.get(`${fx.anyid.issuer}/account/history.csv`);
    assert.equal(csv.status(), 200);
    assert.match(await csv.text(), /\n.+/);
    await ctx.close();
  });

  test(`the security team's decision log page has no violations (${locale})`, async () => {
    const ctx = await context(fx.browser, {
      locale,
      httpCredentials: { username: 'operator', password: fx.anyid.admin_token },
    });
    const page = await ctx.newPage();
    // Some decisions to show: a login page and a refused token request.
    await page.goto(`${fx.anyid.demo}/login`);
    await page.waitForSelector('[data-method="kakao"]');
    await page.goto(`${fx.anyid.admin_page}`);
    await page.waitForSelector('table');
    assert.match(await page.textContent('main'), /login/);
    await check(page, 'decision log');
    await page.selectOption('#filter-decision', 'allow');
    await page.click('form button[type="submit"]');
    await page.waitForURL(/decision=allow/);
    await check(page, 'decision log, filtered');
    await ctx.close();
  });
}
