import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/emulator.js';
import { SCREENSHOTS, launchChromium, openPage, screenshotBothThemes, letToastsClear } from './helpers/browser.js';
import { type FakeHost, connection, startFakeHost } from './helpers/fake-host.js';

/**
 * Small items of issues 15 and 10 with a scripted host behind the real browser host: an endpoint
 * changed in Azure marked on the row and accepted from the details (after a confirmation naming the
 * new endpoint); the outbound proxy shown in About's Network part, set (the password masked, sent
 * once, never shown back) and removed; and errors headed by their code's title (ERROR_TITLES), the
 * host's message as the body.
 */

const FROM = 'orders.internal:5432';
const TO = 'orders-v2.internal:5432';
const PASSWORD = 'Pr0xy-s3cret!';

let host: FakeHost;
let browser: Browser;
let page: Page;
let problems: string[];

const row = (name: string) => page.locator(`[data-connection="contoso/${name}"]`);
const details = () => page.getByTestId('details');
const calls = (method: string) => host.calls.filter((c) => c.method === method).map((c) => c.args);
const toast = () => page.locator('.fui-Toast').last();

beforeAll(async () => {
  host = await startFakeHost([
    connection('orders', 'Connected', {
      endpoint: FROM,
      endpointChange: { from: FROM, to: TO, seenAt: new Date(Date.now() - 5 * 60_000).toISOString() },
    }),
    connection('billing'),
  ]);
  browser = await launchChromium();
  ({ page, problems } = await openPage(browser, host.url));
  await row('orders').waitFor();
});

afterAll(async () => {
  await browser?.close();
  await host?.stop();
});

describe('an endpoint changed in Azure (issue 15)', () => {
  it('marks the row, with from and to in the tooltip; rows without a change have no mark', async () => {
    const mark = row('orders').getByTestId('endpoint-change-mark');
    await mark.waitFor();
    expect(await mark.innerText()).toContain('changed in Azure');
    expect(await row('billing').getByTestId('endpoint-change-mark').count()).toBe(0);
    await mark.hover();
    const tip = await page.getByTestId('endpoint-change-tip').innerText();
    expect(tip).toContain(`Endpoint changed in Azure: ${FROM} → ${TO}`);
    expect(tip).toContain(`New connections still go to ${FROM}`);
    // The same words for screen readers, inside the mark.
    expect(await mark.textContent()).toContain(`Endpoint changed in Azure: ${FROM} → ${TO}`);
    await page.mouse.move(0, 0);
  });

  it('says so in the details and switches only after "Accept change" is confirmed', async () => {
    await page.getByRole('button', { name: 'orders, show details' }).click();
    const banner = details().getByTestId('endpoint-change');
    await banner.waitFor();
    expect(await banner.innerText()).toContain(`Endpoint changed in Azure: ${FROM} → ${TO}`);
    expect(await banner.innerText()).toContain(`keeps connecting to ${FROM}`);
    await screenshotBothThemes(page, 'details-endpoint-changed');
    await banner.getByRole('button', { name: 'Accept change' }).click();
    const confirm = page.getByRole('alertdialog', { name: `Switch orders to ${TO}?` });
    await confirm.waitFor();
    expect(await confirm.getByTestId('endpoint-change-confirm').innerText()).toBe(`New connections will go to ${TO}.`);
    // Cancel changes nothing.
    await confirm.getByRole('button', { name: 'Cancel' }).click();
    await confirm.waitFor({ state: 'detached' });
    expect(calls('acceptEndpointChange')).toEqual([]);
    await banner.getByRole('button', { name: 'Accept change' }).click();
    await confirm.getByTestId('confirm-accept-endpoint').click();
    await confirm.waitFor({ state: 'detached' });
    expect(calls('acceptEndpointChange')).toEqual([['contoso/orders']]);
    await page.locator('.fui-Toast').getByText('Endpoint of orders changed').waitFor();
    await banner.waitFor({ state: 'detached' });
    // The focus stays in the details.
    await waitFor(
      async () => page.evaluate(() => !!document.activeElement?.closest('[data-testid="details"]')),
      5000,
      'the focus in the details',
    );
    await page.keyboard.press('Escape');
    await details().waitFor({ state: 'detached' });
    await waitFor(async () => (await row('orders').locator('td').nth(3).innerText()) === TO, 5000, 'the new endpoint in the row');
    expect(await row('orders').getByTestId('endpoint-change-mark').count()).toBe(0);
    await letToastsClear(page);
  });
});

describe('errors headed by their code (issue 10)', () => {
  it('heads a toast with the title of the error code, the message as the body and what failed under it', async () => {
    host.script('restartConnection', async () => {
      throw Object.assign(new Error('the relay refused the key (401: InvalidSignature)'), { code: 'E_UNAUTHORIZED' });
    });
    await row('billing').getByRole('checkbox').check();
    await page.getByRole('toolbar', { name: 'Actions on the selected connections' }).getByRole('button', { name: 'Restart' }).click();
    await toast().waitFor();
    expect(await toast().getAttribute('data-error-code')).toBe('E_UNAUTHORIZED');
    expect(await toast().locator('.fui-ToastTitle').innerText()).toBe('Key refused');
    const text = await toast().innerText();
    expect(text).toContain('The relay refused the key (401: InvalidSignature)');
    expect(text).toContain('Could not restart billing');
    // Once the toast has finished coming in.
    await page.waitForFunction(() => {
      const el = document.querySelector('.fui-Toast');
      return !!el && el.getBoundingClientRect().width > 0 && getComputedStyle(el.parentElement ?? el).opacity === '1';
    });
    await page.waitForTimeout(300);
    await page.screenshot({ path: `${SCREENSHOTS}error-toast-by-code.png` });
    await page.getByRole('button', { name: 'Clear selection' }).click();
    await letToastsClear(page);
  });

  it('heads an error the host did not raise on purpose (no code of the contract) "Unexpected error"', async () => {
    host.script('restartConnection', async () => {
      throw Object.assign(new Error('something odd'), { code: 'E_SOMETHING_ELSE' });
    });
    await row('billing').getByRole('checkbox').check();
    await page.getByRole('toolbar', { name: 'Actions on the selected connections' }).getByRole('button', { name: 'Restart' }).click();
    await toast().waitFor();
    // The dispatcher answers E_INTERNAL for a code it does not know: "Unexpected error".
    expect(await toast().locator('.fui-ToastTitle').innerText()).toBe('Unexpected error');
    await page.getByRole('button', { name: 'Clear selection' }).click();
    await letToastsClear(page);
  });
});

describe('the proxy in About › Network (issue 15)', () => {
  const network = () => page.getByTestId('network');
  const facts = () => network().getByTestId('proxy-facts');

  it('shows the proxy in use and where it comes from', async () => {
    await page.getByRole('tab', { name: 'About' }).click();
    await facts().waitFor();
    const text = await facts().innerText();
    expect(text).toMatch(/Proxy in use\s+none/);
    expect(text).toContain('None: HCM connects directly');
    expect(await network().getByTestId('proxy-password').getAttribute('type')).toBe('password');
    expect(await network().getByTestId('proxy-clear').count()).toBe(0);
  });

  it('checks the address and the credentials before saving', async () => {
    await network().getByTestId('proxy-url').fill('ftp://proxy.contoso.local:21');
    await network().getByTestId('proxy-save').click();
    await network().getByText('Only http:// proxies are supported').waitFor();
    await network().getByTestId('proxy-url').fill('http://proxy.contoso.local:3128');
    await network().getByTestId('proxy-no-proxy').fill('.internal, 10.0.0.5');
    await network().getByTestId('proxy-username').fill('alice');
    await network().getByTestId('proxy-save').click();
    await network().getByText('Enter the password for this user').waitFor();
    expect(calls('setProxy')).toEqual([]);
  });

  it('saves it (the password sent once, never shown back) and shows the new proxy', async () => {
    await network().getByTestId('proxy-password').fill(PASSWORD);
    await network().getByTestId('proxy-save').click();
    await page.locator('.fui-Toast').getByText('Proxy saved').waitFor();
    expect(host.proxy().input).toEqual({
      url: 'http://proxy.contoso.local:3128',
      noProxy: ['.internal', '10.0.0.5'],
      username: 'alice',
      password: PASSWORD,
    });
    await waitFor(async () => (await facts().innerText()).includes('(setting, user alice)'), 5000, 'the new proxy');
    expect(await facts().innerText()).toContain('A setting of this HCM');
    expect(await facts().innerText()).toMatch(/Not for\s+\.internal, 10\.0\.0\.5/);
    // The form shows the setting again, without its password.
    expect(await network().getByTestId('proxy-url').inputValue()).toBe('http://proxy.contoso.local:3128');
    expect(await network().getByTestId('proxy-username').inputValue()).toBe('alice');
    expect(await network().getByTestId('proxy-password').inputValue()).toBe('');
    expect(await page.content()).not.toContain(PASSWORD);
    await letToastsClear(page);
    await screenshotBothThemes(page, 'about-network');
  });

  it('shows a refusal headed by its code, and keeps no password in the form', async () => {
    host.script('setProxy', async () => {
      throw Object.assign(new Error('the proxy address "http://bad host:1" is not host:port or http://host:port'), { code: 'E_INVALID' });
    });
    await network().getByTestId('proxy-password').fill(PASSWORD);
    await network().getByTestId('proxy-save').click();
    const error = network().getByTestId('proxy-error');
    await error.waitFor();
    expect(await error.innerText()).toContain('Not accepted');
    expect(await error.innerText()).toContain('is not host:port or http://host:port');
    expect(await network().getByTestId('proxy-password').inputValue()).toBe('');
  });

  it('removes the setting: the environment (here none) applies again', async () => {
    await network().getByTestId('proxy-clear').click();
    await page.locator('.fui-Toast').getByText('Proxy setting removed').waitFor();
    expect(calls('clearProxy')).toEqual([[]]);
    await waitFor(async () => /Proxy in use\s+none/.test(await facts().innerText()), 5000, 'no proxy');
    expect(host.proxy().input).toBeNull();
    expect(await network().getByTestId('proxy-clear').count()).toBe(0);
  });

  it('showed no errors in the console', () => {
    expect(problems).toEqual([]);
  });
});
