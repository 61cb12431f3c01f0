/**
 * Every mail the server sends, as text and HTML. Values from users (names, titles, messages, file
 * names) are HTML-escaped in the HTML part and cleaned to one line in the subject; one-time
 * tokens travel only in links of the form PUBLIC_URL + path + `?token=...`.
 *
 * Wording rules: say what happened and when, what to do if it was not the reader, and never
 * include a password, a full session id or anything the reader did not already know.
 */
import { hrefOf, type PublicUrlSource } from '../../config/public-url.js';
import { escapeHtml, headerText } from './headers.js';
import type { MailAddress, OutgoingMail } from './types.js';

export interface TemplateContext {
  /** The public base URL (`app.publicUrl`): links are built on it, read when each mail is made. */
  publicUrl: PublicUrlSource;
  /** Product name in subjects and signatures. */
  appName: string;
}

/** The paths links point at (a front end serves them and calls the matching API). */
export const MAIL_LINK_PATHS = {
  passwordReset: '/reset-password',
  emailVerification: '/verify-email',
  unlock: '/unlock-account',
  suspiciousLogin: '/was-this-you',
  forgotPassword: '/forgot-password',
  acceptInvite: '/accept-invite',
  cancelAccountDeletion: '/cancel-account-deletion',
  account: '/account',
} as const;

/** PUBLIC_URL + path (+ `?token=`), keeping any path prefix of PUBLIC_URL. */
export function mailLink(publicUrl: PublicUrlSource, path: string, token?: string): string {
  const url = new URL(hrefOf(publicUrl));
  url.pathname = `${url.pathname.replace(/\/+$/, '')}${path}`;
  url.search = token === undefined ? '' : new URLSearchParams({ token }).toString();
  url.hash = '';
  return url.toString();
}

type Paragraph = string | { link: string; label: string };

interface Body {
  greeting: string;
  paragraphs: Paragraph[];
}

function render(ctx: TemplateContext, template: string, to: MailAddress, subject: string, input: Body): OutgoingMail {
  // One line-break convention in bodies (nodemailer writes CRLF on the wire itself).
  const lf = (s: string) => s.replace(/\r\n?/g, '\n');
  const body: Body = {
    greeting: lf(input.greeting),
    paragraphs: input.paragraphs.map((p) => (typeof p === 'string' ? lf(p) : p)),
  };
  const text = [
    body.greeting,
    '',
    ...body.paragraphs.flatMap((p) => (typeof p === 'string' ? [p, ''] : [`${p.label}:`, p.link, ''])),
    `— ${ctx.appName}`,
    '',
  ].join('\n');
  const html = [
    '<!doctype html>',
    '<html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"></head>',
    '<body style="font-family:system-ui,sans-serif;line-height:1.5;max-width:36em;margin:auto;padding:1em">',
    `<p>${escapeHtml(body.greeting)}</p>`,
    ...body.paragraphs.map((p) =>
      typeof p === 'string'
        ? `<p>${escapeHtml(p).replace(/\r?\n/g, '<br>')}</p>`
        : `<p><a href="${escapeHtml(p.link)}">${escapeHtml(p.label)}</a></p>`,
    ),
    `<p style="color:#666">— ${escapeHtml(ctx.appName)}</p>`,
    '</body></html>',
  ].join('\n');
  return { template, to, subject: headerText(subject), text, html };
}

function hello(to: MailAddress): string {
  const name = to.name ? headerText(to.name, 100) : '';
  return name ? `Hello ${name},` : 'Hello,';
}

function when(date: Date): string {
  return `${date.toISOString().replace('T', ' ').slice(0, 16)} UTC`;
}

function minutes(seconds: number): string {
  const m = Math.round(seconds / 60);
  if (m >= 120 && m % 60 === 0) return `${m / 60} hours`;
  return m === 1 ? '1 minute' : `${m} minutes`;
}

/** Templates bound to a context: `mail.templates.passwordReset({ to, token, ttlSeconds })`. */
export function createTemplates(ctx: TemplateContext) {
  const link = (path: string, token?: string) => mailLink(ctx.publicUrl, path, token);
  const notYou = `If this was not you, reset your password now and review your sessions.`;
  return {
    passwordReset(d: { to: MailAddress; token: string; ttlSeconds: number }): OutgoingMail {
      return render(ctx, 'password_reset', d.to, `Reset your ${ctx.appName} password`, {
        greeting: hello(d.to),
        paragraphs: [
          `Someone asked to reset the password of your account. The link below works once, for ${minutes(d.ttlSeconds)}.`,
          { link: link(MAIL_LINK_PATHS.passwordReset, d.token), label: 'Choose a new password' },
          'If you did not ask for this, ignore this mail: your password stays as it is.',
        ],
      });
    },

    invitation(d: { to: MailAddress; token: string; ttlSeconds: number; roles: readonly string[] }): OutgoingMail {
      const days = d.ttlSeconds % 86_400 === 0 ? d.ttlSeconds / 86_400 : null;
      const lasts = days === null ? minutes(d.ttlSeconds) : days === 1 ? '1 day' : `${days} days`;
      return render(ctx, 'invitation', d.to, `You are invited to ${ctx.appName}`, {
        greeting: hello(d.to),
        paragraphs: [
          `An administrator of ${ctx.appName} invited this address to create an account (role: ${d.roles.map((r) => headerText(r, 40)).join(', ')}). The link works once, for ${lasts}: choose your name and password there.`,
          { link: link(MAIL_LINK_PATHS.acceptInvite, d.token), label: 'Accept the invitation' },
          'If you did not expect this, ignore this mail: no account is created unless the link is used.',
        ],
      });
    },

    passwordResetNotice(d: { to: MailAddress; at: Date }): OutgoingMail {
      return render(ctx, 'password_reset_notice', d.to, `Your ${ctx.appName} password was reset`, {
        greeting: hello(d.to),
        paragraphs: [
          `The password of your account was reset on ${when(d.at)}. Every session and trusted device was signed out.`,
          { link: link(MAIL_LINK_PATHS.forgotPassword), label: 'If this was not you, reset it again' },
        ],
      });
    },

    emailVerification(d: { to: MailAddress; token: string; ttlSeconds: number }): OutgoingMail {
      return render(ctx, 'email_verification', d.to, `Confirm your email for ${ctx.appName}`, {
        greeting: hello(d.to),
        paragraphs: [
          `Please confirm that this address belongs to your new account. The link works once, for ${minutes(d.ttlSeconds)}.`,
          { link: link(MAIL_LINK_PATHS.emailVerification, d.token), label: 'Confirm my email' },
          'If you did not create an account, ignore this mail.',
        ],
      });
    },

    registerAttempt(d: { to: MailAddress; at: Date }): OutgoingMail {
      return render(ctx, 'register_attempt', d.to, `Someone tried to register with your email on ${ctx.appName}`, {
        greeting: hello(d.to),
        paragraphs: [
          `On ${when(d.at)} someone tried to create a new account with this email address, which already has an account. No new account was created.`,
          { link: link(MAIL_LINK_PATHS.forgotPassword), label: 'If you forgot your password, reset it here' },
          'If it was not you, you need not do anything.',
        ],
      });
    },

    passwordChanged(d: { to: MailAddress; at: Date }): OutgoingMail {
      return render(ctx, 'password_changed', d.to, `Your ${ctx.appName} password was changed`, {
        greeting: hello(d.to),
        paragraphs: [
          `The password of your account was changed on ${when(d.at)}. Your other sessions were signed out.`,
          notYou,
          { link: link(MAIL_LINK_PATHS.forgotPassword), label: 'Reset my password' },
        ],
      });
    },

    unlockAccount(d: { to: MailAddress; token: string; lockedSeconds: number; ttlSeconds: number }): OutgoingMail {
      return render(ctx, 'unlock_account', d.to, `Sign-ins to your ${ctx.appName} account were paused`, {
        greeting: hello(d.to),
        paragraphs: [
          `After several wrong passwords or codes, sign-ins to your account are paused for ${minutes(d.lockedSeconds)}. Your password was not changed, and signing in from a device you trusted still works.`,
          `If it was you, this link lifts the pause at once (it works once, for ${minutes(d.ttlSeconds)}):`,
          { link: link(MAIL_LINK_PATHS.unlock, d.token), label: 'Unlock my account' },
          'If it was not you, someone may be guessing your password: use a long, unique one.',
        ],
      });
    },

    suspiciousLogin(d: {
      to: MailAddress;
      token: string;
      at: Date;
      ip: string;
      device: string;
      reasons: string[];
      ttlSeconds: number;
    }): OutgoingMail {
      return render(ctx, 'suspicious_login', d.to, `New sign-in to your ${ctx.appName} account — was this you?`, {
        greeting: hello(d.to),
        paragraphs: [
          `Your account was signed in to on ${when(d.at)} from ${headerText(d.device, 120)} (address ${headerText(d.ip, 60)}).`,
          `Why we are asking: ${d.reasons.map((r) => headerText(r, 80)).join(', ')}.`,
          'If it was you, you need not do anything.',
          `If it was not you, this link signs that session out and starts a password reset (it works once, for ${minutes(d.ttlSeconds)}):`,
          { link: link(MAIL_LINK_PATHS.suspiciousLogin, d.token), label: 'It was not me: secure my account' },
        ],
      });
    },

    contactMessage(d: {
      to: MailAddress;
      portfolioTitle: string;
      senderName: string;
      senderEmail: string;
      message: string;
    }): OutgoingMail {
      const title = headerText(d.portfolioTitle, 80);
      const sender = headerText(d.senderName, 100);
      return {
        ...render(ctx, 'contact_message', d.to, `New message from ${sender} via "${title}"`, {
          greeting: hello(d.to),
          paragraphs: [
            `${sender} <${d.senderEmail}> wrote through the contact form of your portfolio "${title}":`,
            d.message,
            `Reply to this mail to answer ${sender}. ${ctx.appName} did not check who sent it: do not follow links you did not expect.`,
          ],
        }),
        replyTo: d.senderEmail,
      };
    },

    privacyExportReady(d: { to: MailAddress; at: Date; deleteAt: Date; forOther: boolean }): OutgoingMail {
      return render(ctx, 'privacy_export_ready', d.to, `Your ${ctx.appName} data export is ready`, {
        greeting: hello(d.to),
        paragraphs: [
          d.forOther
            ? `The data export of an account that you requested on ${when(d.at)} is ready.`
            : `The export of your data that you requested on ${when(d.at)} is ready.`,
          `Sign in to download it. It can be downloaded once, until ${when(d.deleteAt)}; then it is deleted.`,
          { link: link(MAIL_LINK_PATHS.account), label: 'Open my account' },
          notYou,
        ],
      });
    },

    mfaResetNotice(d: { to: MailAddress; at: Date }): OutgoingMail {
      return render(ctx, 'mfa_reset_notice', d.to, `Two-step sign-in was reset on your ${ctx.appName} account`, {
        greeting: hello(d.to),
        paragraphs: [
          `Two-step sign-in (authenticator apps, security keys and backup codes) was turned off on your account on ${when(d.at)}.`,
          notYou,
          { link: link(MAIL_LINK_PATHS.forgotPassword), label: 'Reset my password' },
        ],
      });
    },

    accountDeletionScheduled(d: {
      to: MailAddress;
      token?: string | undefined;
      dueAt: Date;
      byAdmin: boolean;
    }): OutgoingMail {
      return render(ctx, 'account_deletion_scheduled', d.to, `Your ${ctx.appName} account will be erased`, {
        greeting: hello(d.to),
        paragraphs: [
          d.byAdmin
            ? `An administrator scheduled the erasure of your account for ${when(d.dueAt)}. The account is disabled until then. Your portfolios, media and sign-in data will then be deleted for good.`
            : `You asked us to erase your account. It will be erased on ${when(d.dueAt)}: your portfolios, media and sign-in data will then be deleted for good. Every session was signed out.`,
          ...(d.token
            ? [
                'Changed your mind? Until then, this link (or simply signing in) cancels the erasure:',
                { link: link(MAIL_LINK_PATHS.cancelAccountDeletion, d.token), label: 'Keep my account' },
              ]
            : ['If you think this is a mistake, contact the administrator before that date.']),
        ],
      });
    },

    accountDeletionCancelled(d: { to: MailAddress; at: Date; how: 'link' | 'sign_in' | 'admin' }): OutgoingMail {
      const how =
        d.how === 'link' ? 'with the link we mailed' : d.how === 'sign_in' ? 'by signing in' : 'by an administrator';
      return render(
        ctx,
        'account_deletion_cancelled',
        d.to,
        `The erasure of your ${ctx.appName} account was cancelled`,
        {
          greeting: hello(d.to),
          paragraphs: [
            `The erasure of your account was cancelled on ${when(d.at)} ${how}. Your account stays as it is.`,
            notYou,
            { link: link(MAIL_LINK_PATHS.forgotPassword), label: 'Reset my password' },
          ],
        },
      );
    },

    /** An operator alert (src/security/monitoring/alerts/): to ALERT_EMAILS, once per dedup window. */
    operatorAlert(d: {
      to: MailAddress;
      id: string;
      rule: string;
      severity: string;
      summary: string;
      firstSeen: Date;
      link: string;
    }): OutgoingMail {
      return render(ctx, 'operator_alert', d.to, `[${d.severity}] ${ctx.appName} security alert: ${d.rule}`, {
        greeting: 'Hello,',
        paragraphs: [
          `The detection rule "${headerText(d.rule, 60)}" raised a ${d.severity} alert on ${when(d.firstSeen)}.`,
          headerText(d.summary, 500),
          `Alert id: ${d.id}. Repeats within its dedup window are counted on the alert, not mailed again. docs/MONITORING.md says what to do for each rule.`,
          { link: d.link, label: 'Open the alert' },
        ],
      });
    },

    uploadInfected(d: { to: MailAddress; fileName: string; at: Date }): OutgoingMail {
      return render(ctx, 'upload_infected', d.to, `A file you uploaded to ${ctx.appName} was blocked`, {
        greeting: hello(d.to),
        paragraphs: [
          `The file "${headerText(d.fileName, 120)}" you uploaded on ${when(d.at)} was found to contain malware and was not published. It stays in quarantine until an administrator removes it.`,
          'If you did not upload it, someone may have access to your account: reset your password.',
          { link: link(MAIL_LINK_PATHS.forgotPassword), label: 'Reset my password' },
        ],
      });
    },
  };
}

export type MailTemplates = ReturnType<typeof createTemplates>;
