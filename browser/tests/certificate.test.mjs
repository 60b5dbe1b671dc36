// Certificate login over mutual TLS in a real browser: the browser presents a dev citizen's
// client certificate to the certificate listener the login page links to, and comes back
// to the service signed in at high assurance; a revoked certificate gets a clear page.
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
  assert.match(text, /Dev citizen hong/);
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
