// Certificate login over mutual TLS in a real browser: the browser presents a dev citizen's
// client certificate to the certificate listener the login page links to, and comes back
// to the service signed in at high assurance; a revoked certificate gets a clear page; and
// a certificate that is not the signed-in citizen's cannot raise their session (DESIGN §4).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { useAnyId, axe } from './harness.mjs';

const fx = useAnyId();

/// A context whose browser holds dev citizen `name`'s certificate for the listener.
async function withCertificate(name, locale) {
  const citizens = join(fx.anyid.dev_ca, 'citizens');
  return fx.browser.newContext({
    locale,
    bypassCSP: true,
    ignoreHTTPSErrors: true,
    clientCertificates: [{
      origin: fx.anyid.mtls,
      certPath: join(citizens, `${name}.pem`),
      keyPath: join(citizens, `${name}.key`),
    }],
  });
}

test('a browser certificate logs in at high assurance through the certificate listener', async () => {
  const ctx = await withCertificate('hong', 'en-US');
  const page = await ctx.newPage();
  await page.goto(`${fx.anyid.demo}/login`);
  await page.click('[data-method="certificate-tls"]');
  await page.waitForSelector('form[action="/consent"]');
  await page.click('button[value="allow"]');
  await page.waitForURL(/\/demo\/callback/);
  const text = await page.textContent('main');
  assert.match(text, /urn:anyid:loa:high/);
  // A certificate's name is not released as the citizen's name (issue 14).
  assert.doesNotMatch(text, /Dev citizen hong/);
  await ctx.close();
});

test('a revoked certificate is refused with a page that says so', async () => {
  const ctx = await withCertificate('revoked', 'ko-KR');
  const page = await ctx.newPage();
  await page.goto(`${fx.anyid.demo}/login`);
  await page.click('[data-method="certificate-tls"]');
  await page.waitForURL(/\/login\/certificate\/return/);
  assert.match(await page.textContent('main'), /폐지되었습니다/);
  assert.deepEqual(await axe(page), [], 'the refusal page');
  await ctx.close();
});

test('the certificate forms on the login page and in the portal pass axe when opened', async () => {
  const ctx = await withCertificate('hong', 'ko-KR');
  const page = await ctx.newPage();
  await page.goto(`${fx.anyid.demo}/login`);
  await page.click('#certificate-heading + details > summary');
  await page.waitForSelector('#certificate-signature', { state: 'visible' });
  assert.deepEqual(await axe(page), [], 'the login page, certificate form open');
  // Signed in (by certificate), the portal offers to register another certificate.
  await page.click('[data-method="certificate-tls"]');
  const consent = page.locator('form[action="/consent"]');
  await Promise.race([consent.waitFor(), page.waitForURL(/\/demo\/callback/)]);
  if (await consent.count()) await page.click('button[value="allow"]');
  await page.waitForURL(/\/demo\/callback/);
  await page.goto(`${fx.anyid.issuer}/account`);
  await page.click('#certificate-heading + details > summary');
  await page.waitForSelector('form[action="/account/certificate"] textarea', { state: 'visible' });
  assert.deepEqual(await axe(page), [], 'the portal, certificate form open');
  await ctx.close();
});

test('a step-up with someone else\'s certificate is refused and the service gets nothing', async () => {
  // Whoever holds this browser's low (Kakao) session tries to raise it with a certificate
  // of their own: before the binding rule, the service received acr high for the citizen.
  const ctx = await withCertificate('kim', 'ko-KR');
  const page = await ctx.newPage();
  await page.goto(`${fx.anyid.demo}/login?prompt=login`);
  await page.click('[data-method="kakao"]');
  const consent = page.locator('form[action="/consent"]');
  await Promise.race([consent.waitFor(), page.waitForURL(/\/demo\/callback/)]);
  if (await consent.count()) await page.click('button[value="allow"]');
  await page.waitForURL(/\/demo\/callback/);
  assert.match(await page.textContent('main'), /urn:anyid:loa:low/);

  await page.goto(`${fx.anyid.demo}/login?acr=high`);
  await page.waitForSelector('[data-method="certificate-tls"]');
  assert.match(await page.textContent('main'), /현재 로그인한 계정:\s*길동/);
  await page.click('[data-method="certificate-tls"]');
  await page.waitForURL(/\/login\/certificate\/return/);
  const refusal = await page.textContent('main');
  assert.match(refusal, /연결되어 있지 않아/);
  assert.deepEqual(await axe(page), [], 'the refusal page');

  // The service never got a code, and the portal lists only the Kakao method.
  assert.doesNotMatch(page.url(), /\/demo\/callback/);
  await page.goto(`${fx.anyid.issuer}/account`);
  assert.equal(await page.locator('input[name="unlink"]').count(), 0);
  assert.match(await page.textContent('main'), /유일한 로그인 방법입니다/);
  await ctx.close();
});
