// A citizen logs in from a relying party (the demo service) through upstream providers and
// back, in Korean and in English, with the mouse and with the keyboard only.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { useAnyId, context, tabTo } from './harness.mjs';

const fx = useAnyId();

test('full login through an upstream OpenID provider; the demo service shows the claims', async () => {
  const ctx = await context(fx.browser, { locale: 'ko-KR' });
  const page = await ctx.newPage();
  await page.goto(fx.anyid.demo);
  await page.click('a[href="/demo/login"]');
  assert.equal(await page.getAttribute('html', 'lang'), 'ko');
  await page.click('[data-method="kakao"]');
  // Consent, in plain words, then back at the service.
  await page.waitForSelector('form[action="/consent"]');
  assert.match(await page.textContent('main'), /Demo service/);
  await page.click('button[value="allow"]');
  await page.waitForURL(/\/demo\/callback/);
  const text = await page.textContent('main');
  assert.match(text, /gildong@kakao\.example/, 'the userinfo answer reached the service');
  assert.match(text, /urn:anyid:loa:low/);
  await ctx.close();
});

test('English on request, the visible switch, and the last method used comes first', async () => {
  const ctx = await context(fx.browser, { locale: 'en-US' });
  const page = await ctx.newPage();
  // The citizen consented in the first test; prompt=consent shows the page again.
  await page.goto(`${fx.anyid.demo}/login?prompt=consent`);
  assert.equal(await page.getAttribute('html', 'lang'), 'en');
  assert.equal(await page.textContent('h1'), 'Sign in');
  // The configured order puts Naver first.
  assert.equal(await page.getAttribute('ul.methods li:first-child button', 'data-method'), 'naver');
  // The switch changes the language and keeps the sign-in.
  await page.click('header a.switch');
  assert.equal(await page.getAttribute('html', 'lang'), 'ko');
  await page.click('header a.switch');
  assert.equal(await page.getAttribute('html', 'lang'), 'en');
  await page.click('[data-method="kakao"]');
  await page.click('button[value="allow"]');
  await page.waitForURL(/\/demo\/callback/);
  // Next time on this device, Kakao (used last) comes first, marked as such.
  await page.goto(`${fx.anyid.demo}/login?prompt=login`);
  const first = page.locator('ul.methods li:first-child button');
  assert.equal(await first.getAttribute('data-method'), 'kakao');
  assert.match(await first.textContent(), /Last used/);
  await ctx.close();
});

test('the whole flow completes with the keyboard only', async () => {
  const ctx = await context(fx.browser, { locale: 'ko-KR', phone: false });
  const page = await ctx.newPage();
  await page.goto(fx.anyid.demo);
  await tabTo(page, 'a[href="/demo/login"]');
  await page.keyboard.press('Enter');
  await page.waitForSelector('[data-method="naver"]');
  await tabTo(page, '[data-method="naver"]');
  await page.keyboard.press('Enter');
  await page.waitForSelector('form[action="/consent"]');
  await tabTo(page, 'button[value="allow"]');
  await page.keyboard.press('Enter');
  await page.waitForURL(/\/demo\/callback/);
  assert.match(await page.textContent('main'), /seojun@naver\.example/);
  await ctx.close();
});

test('screenshots of the login screen in Korean and English', async () => {
  // E2E_SCREENSHOT_DIR=docs/screenshots refreshes the committed ones.
  const dir = process.env.E2E_SCREENSHOT_DIR || mkdtempSync(join(tmpdir(), 'anyid-shots-'));
  mkdirSync(dir, { recursive: true });
  for (const [locale, name] of [['ko-KR', 'login-ko.png'], ['en-US', 'login-en.png']]) {
    const ctx = await context(fx.browser, { locale });
    const page = await ctx.newPage();
    await page.goto(fx.anyid.demo);
    await page.click('a[href="/demo/login"]');
    await page.waitForSelector('[data-method="kakao"]');
    await page.screenshot({ path: `${dir}/${name}`, fullPage: true });
    assert.ok(statSync(`${dir}/${name}`).size > 10_000, `${name} holds a rendered page`);
    await ctx.close();
  }
});
