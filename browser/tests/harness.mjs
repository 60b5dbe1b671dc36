// Test harness: boots the real Any-ID (with a Kakao-like upstream and the demo relying
// party, through the Rust fixture binary `anyid-e2e`) and a headless Debian Chromium.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { before, after } from 'node:test';
import { chromium } from 'playwright-core';

const require = createRequire(import.meta.url);

export const CHROMIUM = process.env.E2E_CHROMIUM || '/usr/bin/chromium';

/// Start the fixture; resolves to its URLs once it is listening.
export async function startAnyId() {
  const bin = process.env.E2E_FIXTURE_BIN;
  if (!bin) throw new Error('E2E_FIXTURE_BIN must point at the anyid-e2e fixture binary (scripts/test sets it)');
  const child = spawn(bin, [], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout });
  const urls = await new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`anyid-e2e exited with ${code}`)));
    lines.once('line', (line) => resolve(JSON.parse(line)));
  });
  return { ...urls, stop: () => new Promise((r) => { child.once('exit', r); child.stdin.end(); }) };
}

/// Start Any-ID and Chromium before a test file's tests and stop them after; the returned
/// object holds `anyid` (the fixture's URLs) and `browser` once they run.
export function useAnyId() {
  const fx = {};
  before(async () => {
    fx.anyid = await startAnyId();
    fx.browser = await launch();
  });
  after(async () => {
    await fx.browser?.close();
    await fx.anyid?.stop();
  });
  return fx;
}

export async function launch() {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/// A fresh browser context (a fresh profile): a phone-sized viewport, a language, and CSP
/// bypass only so axe-core can be injected (the pages themselves run no script).
export async function context(browser, { locale = 'ko-KR', phone = true, httpCredentials } = {}) {
  return browser.newContext({
    locale,
    httpCredentials,
    bypassCSP: true,
    viewport: phone ? { width: 390, height: 844 } : { width: 1280, height: 900 },
    deviceScaleFactor: 1,
  });
}

const AXE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

/// Run axe-core with the WCAG 2.1 A and AA rules; returns its violations.
export async function axe(page) {
  await page.addScriptTag({ content: AXE });
  const result = await page.evaluate(async () =>
    // eslint-disable-next-line no-undef
    axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } }));
  return result.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.map((n) => n.target.join(' ')) }));
}

/// Press Tab until the focused element matches `selector` (at most `max` presses).
export async function tabTo(page, selector, max = 40) {
  for (let i = 0; i < max; i++) {
    await page.keyboard.press('Tab');
    const hit = await page.evaluate((s) => document.activeElement && document.activeElement.matches(s), selector);
    if (hit) return;
  }
  throw new Error(`keyboard focus never reached ${selector}`);
}
