/** The sessions list shows a device as people name it ("Firefox 128 on Windows"), parsed by ua-parser-js. */
import UAParser from 'ua-parser-js';

export interface DeviceInfo {
  browser: string | null;
  os: string | null;
  device: string | null;
}

/** User agents are attacker-controlled text: capped before parsing and storing. */
export const USER_AGENT_MAX = 512;

export function describeUserAgent(userAgent: string): DeviceInfo {
  if (userAgent === '') return { browser: null, os: null, device: null };
  const r = new UAParser(userAgent.slice(0, USER_AGENT_MAX)).getResult();
  const join = (...parts: (string | undefined)[]) =>
    parts
      .filter((p) => p && p.trim() !== '')
      .join(' ')
      .slice(0, 100) || null;
  return {
    browser: join(r.browser.name, r.browser.major),
    os: join(r.os.name, r.os.version),
    // Desktop browsers report no device type.
    device: join(r.device.type ?? 'desktop', r.device.vendor, r.device.model),
  };
}
