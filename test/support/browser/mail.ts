/** The link of a mail in the outbox, as the recipient would click it. */
import type { FastifyInstance } from 'fastify';
import { mailsTo } from '../accounts/helpers.js';

/** The newest mail of `template` to `address`, and the one link in it that carries `?token=`. */
export async function mailedLink(app: FastifyInstance, address: string, template: string): Promise<URL> {
  const mails = await mailsTo(app, address, template);
  const mail = mails.at(-1);
  if (!mail) throw new Error(`no ${template} mail to ${address}`);
  const m = /https?:\/\/\S+[?&]token=[A-Za-z0-9_-]+/.exec(mail.text);
  if (!m) throw new Error(`no token link in the ${template} mail`);
  return new URL(m[0]);
}

/** How many mails of `template` went to `address`. */
export async function mailCount(app: FastifyInstance, address: string, template: string): Promise<number> {
  return (await mailsTo(app, address, template)).length;
}
