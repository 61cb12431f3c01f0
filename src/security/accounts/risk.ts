/**
 * Suspicious-login signals and how they add up to a decision. Pure functions: the inputs (what
 * the user was seen with before, the lockout streak, the deny list) are gathered by
 * suspicious.ts.
 *
 * Weights: a denylisted network alone asks for a second factor; a burst of failures before the
 * right password is worth a mail; a new device or a new network alone is ordinary (people buy
 * phones and travel) and only counts together with something else.
 */
import net from 'node:net';
import UAParser from 'ua-parser-js';
import { USER_AGENT_MAX } from '../tokens/user-agent.js';

export type RiskSignal = 'new_device' | 'new_network' | 'failure_burst' | 'denylisted_network';
export type RiskLevel = 'low' | 'medium' | 'high';
/** allow; allow and mail "was this you?"; ask for the second factor (or mail, without MFA). */
export type RiskAction = 'allow' | 'notify' | 'step_up';

export const SIGNAL_WEIGHTS: Record<RiskSignal, number> = {
  new_device: 1,
  new_network: 1,
  failure_burst: 2,
  denylisted_network: 4,
};
/** Score from which a login is medium (notify) and high (step-up) risk. */
export const MEDIUM_SCORE = 2;
export const HIGH_SCORE = 4;
/** Failures in the current lockout streak that make a burst (a lock earlier in the streak always does). */
export const BURST_FAILURES = 3;

/** What the mail says about each signal. */
export const SIGNAL_TEXT: Record<RiskSignal, string> = {
  new_device: 'a browser or device not used before on this account',
  new_network: 'a network not used before on this account',
  failure_burst: 'several wrong passwords just before',
  denylisted_network: 'a network known for abuse',
};

export interface RiskAssessment {
  signals: RiskSignal[];
  score: number;
  level: RiskLevel;
}

export function assessRisk(signals: readonly RiskSignal[]): RiskAssessment {
  const unique = [...new Set(signals)].sort();
  const score = unique.reduce((n, s) => n + SIGNAL_WEIGHTS[s], 0);
  const level: RiskLevel = score >= HIGH_SCORE ? 'high' : score >= MEDIUM_SCORE ? 'medium' : 'low';
  return { signals: unique, score, level };
}

/** high → step-up when the user has a second factor, else notify; medium → notify; low → allow. */
export function actionFor(level: RiskLevel, hasMfa: boolean): RiskAction {
  if (level === 'high') return hasMfa ? 'step_up' : 'notify';
  return level === 'medium' ? 'notify' : 'allow';
}

/**
 * The network of an address as "seen before" compares it: the IPv4 /24 or the IPv6 /48 (a home
 * connection's addresses change within these). Anything else is "unknown".
 */
export function networkPrefix(ip: string): string {
  const addr = ip.startsWith('::ffff:') && net.isIPv4(ip.slice(7)) ? ip.slice(7) : ip;
  if (net.isIPv4(addr)) return `${addr.split('.').slice(0, 3).join('.')}.0/24`;
  if (net.isIPv6(addr)) {
    const blocks = expandIpv6(addr).slice(0, 3);
    return `${blocks.join(':')}::/48`;
  }
  return 'unknown';
}

function expandIpv6(addr: string): string[] {
  const [head = '', tail] = addr.split('::');
  const h = head === '' ? [] : head.split(':');
  const t = tail === undefined || tail === '' ? [] : tail.split(':');
  const fill = tail === undefined ? [] : Array<string>(Math.max(0, 8 - h.length - t.length)).fill('0');
  return [...h, ...fill, ...t].map((b) => (b.includes('.') ? b : (b.replace(/^0+/, '') || '0').toLowerCase()));
}

/**
 * The "device" a login comes from, as people would name it without versions: browser family and
 * OS family ("firefox|windows"). Versions change with every update and must not look new.
 */
export function deviceFamily(userAgent: string): string {
  if (userAgent.trim() === '') return 'unknown';
  const r = new UAParser(userAgent.slice(0, USER_AGENT_MAX)).getResult();
  const clean = (s: string | undefined) =>
    (s ?? '')
      .toLowerCase()
      .replace(/[^a-z0-9 ._-]/g, '')
      .trim()
      .slice(0, 40);
  const browser = clean(r.browser.name);
  const os = clean(r.os.name);
  if (!browser && !os) {
    // Not a browser (curl, an SDK): its product token without the version.
    return `other|${clean(userAgent.split(/[\s/]/)[0]) || 'unknown'}`;
  }
  return `${browser || 'unknown'}|${os || 'unknown'}`;
}

/** A readable device for the mail ("Firefox on Windows"). */
export function deviceLabel(userAgent: string): string {
  const [browser = 'unknown', os = 'unknown'] = deviceFamily(userAgent).split('|');
  return browser === 'other' ? `a program (${os})` : `${browser} on ${os}`;
}
