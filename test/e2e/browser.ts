import { existsSync } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';

/** The headless Chromium of the browser tests (apt-get install -y chromium), or PB_CHROMIUM. */
export const CHROMIUM = process.env.PB_CHROMIUM ?? '/usr/bin/chromium';

const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Launches headless Chromium, or fails with one line saying how to install it. */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `headless Chromium is needed at ${CHROMIUM}: apt-get install -y chromium (or set PB_CHROMIUM)`,
    );
  }
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
}
