// Passkeys in a real browser: Chromium's DevTools virtual authenticator (the WebAuthn domain)
// plays a platform authenticator with user verification. A citizen registers a passkey in
// the portal, logs in to the demo service without typing a name, and a login whose
// authenticator did not verify the user is refused. The new pages pass axe-core.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useAnyId, context, axe } from './harness.mjs';

const fx = useAnyId();

/// A context with a virtual authenticator that holds discoverable credentials.
async function withAuthenticator(locale) {
  const ctx = await context(fx.browser, { locale, phone: false });
  const page = await ctx.newPage();
  const cdp = await ctx.newCDPSession(page);
  await cdp.send('WebAuthn.enable', { enableUI: false });
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2', ctap2Version: 'ctap2_1', transport: 'internal',
      hasResidentKey: true, hasUserVerification: true, isUserVerified: true,
      automaticPresenceSimulation: true,
    },
  });
  return { ctx, page, cdp, authenticatorId };
}

/// Make the page's browser report no conditional mediation (the passkey button path).
async function withoutConditionalUi(page) {
  await page.addInitScript(() => {
    PublicKeyCredential.isConditionalMediationAvailable = async () => false;
  });
}

/// Allow consent if asked (it is remembered after the first time) and check the demo service
/// got Lee, verified by a passkey.
async function consentAndCheck(page) {
  const consent = page.locator('form[action="/consent"]');
  await Promise.race([consent.waitFor(), page.waitForURL(/\/demo\/callback/)]);
  if (await consent.count()) {
    await page.click('button[value="allow"]');
    await page.waitForURL(/\/demo\/callback/);
  }
  const text = await page.textContent('main');
  assert.match(text, /이서준|Lee Seojun/, 'the same citizen');
  assert.match(text, /"mfa"/, 'amr says the user was verified');
}

/// Sign in to the portal as demo citizen `who` and register a passkey named `name`.
async function registerPasskey(page, who, name) {
  await page.goto(`${fx.anyid.issuer}/account`);
  await page.click(`button[name="citizen"][value="${who}"]`);
  await page.waitForSelector('form[data-passkey="register"]:not([hidden])');
  assert.deepEqual(await axe(page), [], 'the portal with its passkey section');
  await page.fill('#passkey-name', name);
  await page.click('[data-method="passkey-register"]');
  await page.waitForURL(/done=passkey_added/);
}

test('a passkey registered in the portal logs in to a service without a username', async () => {
  const { ctx, page, cdp, authenticatorId } = await withAuthenticator('en-US');
  await registerPasskey(page, 'lee', 'Test laptop');
  assert.match(await page.textContent('main'), /The passkey is registered/);
  assert.equal(await page.inputValue('input[name="name"][id^="rename-"]'), 'Test laptop');
  const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
  assert.equal(credentials.length, 1);

  assert.equal(credentials[0].isResidentCredential, true, 'a discoverable credential');

  // A new session, nothing typed: the browser offers the passkey in autofill (conditional
  // UI) and the virtual authenticator picks it at once.
  await ctx.clearCookies();
  await page.goto(`${fx.anyid.demo}/login`);
  await consentAndCheck(page);

  // A browser without conditional UI: the button. (The virtual authenticator belongs to
  // this page, so the same page navigates again.)
  await ctx.clearCookies();
  await withoutConditionalUi(page);
  await page.goto(`${fx.anyid.demo}/login`);
  await page.waitForSelector('form[data-passkey="login"]:not([hidden])');
  await page.click('[data-method="passkey"]');
  await consentAndCheck(page);
  const after = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
  assert.ok(after.credentials[0].signCount > 0, 'the authenticator signed');
  await ctx.close();
});

test('an assertion without user verification is refused and nobody is signed in', async () => {
  const { ctx, page, cdp, authenticatorId } = await withAuthenticator('ko-KR');
  await registerPasskey(page, 'kim', '업무용 노트북');
  await withoutConditionalUi(page);

  // Kim's demo session is low: a service asking for high gets the step-up page, which says
  // whose account the stronger method will join and offers only methods that can reach it.
  await page.goto(`${fx.anyid.demo}/login?acr=high`);
  await page.waitForSelector('form[action="/login/certificate"]', { state: 'attached' });
  assert.match(await page.textContent('main'), /현재 로그인한 계정:\s*김민지/);
  assert.equal(await page.locator('[data-method="kakao"], [data-method="dev"]').count(), 0);
  assert.deepEqual(await axe(page), [], 'the step-up page');

  await ctx.clearCookies();
  // The authenticator answers, but with the user-verified flag cleared.
  await cdp.send('WebAuthn.setResponseOverrideBits', { authenticatorId, isBadUV: true });
  await withoutConditionalUi(page);
  await page.goto(`${fx.anyid.demo}/login`);
  await page.waitForSelector('form[data-passkey="login"]:not([hidden])');
  await page.click('[data-method="passkey"]');
  // Chromium passes the answer on; Any-ID refuses it with a way back.
  await page.waitForURL(/\/login\/passkey$/);
  assert.match(await page.textContent('main'), /패스키가 승인되지 않았습니다/);
  assert.ok(await page.locator('main a[href*="/login?flow="]').count() > 0, 'a way to retry');
  assert.deepEqual(await axe(page), [], 'the refusal page');
  assert.equal(await page.locator('form[action="/consent"]').count(), 0);
  await page.goto(`${fx.anyid.issuer}/account`);
  assert.ok(await page.locator('form[action="/login/dev"]').count() > 0, 'still signed out');
  await ctx.close();
});
