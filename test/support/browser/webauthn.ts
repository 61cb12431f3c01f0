/**
 * Chromium's virtual authenticator (DevTools protocol, WebAuthn domain) for a page's context: a
 * platform authenticator with resident keys and user verification that answers at once, so a
 * test registers and uses passkeys without a person. Each call is a separate "device".
 */
import type { CDPSession, Page } from 'playwright-core';

export async function addVirtualAuthenticator(page: Page): Promise<{ cdp: CDPSession; authenticatorId: string }> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2',
      transport: 'internal',
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
    },
  });
  return { cdp, authenticatorId };
}
