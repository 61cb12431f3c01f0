/** The console's own strings in English (the reference: es.ts must have the same keys). */
export const en = {
  app: { name: 'Portfolio console', skip: 'Skip to the content', footer: 'Your links and data stay on this server.' },
  lang: { label: 'Language', en: 'English', es: 'Español' },
  field: {
    email: 'Email',
    password: 'Password',
    new_password: 'New password',
    name: 'Name',
    auth_code: 'Authentication code',
    backup_code: 'Backup code',
    required: 'Fill in this field.',
  },
  button: {
    sign_in: 'Sign in',
    set_password: 'Set password',
    verify: 'Verify',
    sign_out: 'Sign out',
    send_link: 'Send the link',
    unlock: 'Unlock my account',
    not_me: 'It was not me: secure my account',
    working: 'Working…',
  },
  link: {
    sign_in: 'Go to sign-in',
    forgot: 'Forgot your password?',
    new_reset: 'Ask for a new reset link',
    account: 'Go to my account',
  },
  strength: {
    label: 'Password strength',
    hint: 'Use at least %{min} characters: a few unrelated words make a strong passphrase.',
    too_short: 'Too short: %{count} of at least %{min} characters.',
    too_long: 'Too long: at most %{max} characters.',
    level_0: 'Very weak',
    level_1: 'Weak',
    level_2: 'Fair',
    level_3: 'Strong',
    level_4: 'Very strong',
    checking: 'Checking…',
  },
  error: {
    INVALID_TOKEN: 'This link has expired or was already used. Links in our mails work once, for a short time.',
    LINK_MISSING: 'This page needs the link from your mail, with its code. Open the link again from the mail.',
    WEAK_PASSWORD: 'This password is too easy to guess.',
    VALIDATION_FAILED: 'Check the highlighted field.',
    RATE_LIMITED: 'Too many attempts. Try again in %{seconds} seconds.',
    RATE_LIMITED_NO_TIME: 'Too many attempts. Try again in a moment.',
    ACCOUNT_LOCKED:
      'Sign-ins to this account are paused for %{seconds} seconds after too many failed attempts. The owner was mailed a link to unlock it.',
    INVALID_CREDENTIALS: 'The email or password is incorrect.',
    INVITATION_INVALID: 'This invitation link is not valid. Check that you opened the whole link from the mail.',
    INVITATION_USED: 'This invitation was already used. If you created your account, sign in.',
    INVITATION_EXPIRED: 'This invitation has expired. Ask the administrator for a new one.',
    INVITATION_REVOKED: 'This invitation was withdrawn. Ask the administrator for a new one.',
    CLIENT_BLOCKED: 'Requests from your network are paused for now. Try again later.',
    NETWORK: 'The server could not be reached. Check your connection and try again.',
    SERVER_ERROR: 'Something went wrong on the server. Try again in a moment.',
    UNKNOWN: 'That did not work. Try again.',
  },
  reset: {
    title: 'Choose a new password',
    intro: 'Choose the new password of your account. Every session and trusted device will be signed out.',
    done: 'Your password was changed and every session was signed out. Sign in with your new password.',
  },
  forgot: {
    title: 'Reset your password',
    intro: 'Enter the email of your account and we will mail you a link to choose a new password.',
    done: 'If an account uses this email, a message with a link is on its way. The link works once, for a short time.',
  },
  verify: {
    title: 'Confirm your email',
    intro: 'Press Verify to confirm that this email address belongs to your account.',
    done: 'Your email address is confirmed. You can sign in now.',
  },
  unlock: {
    title: 'Unlock your account',
    intro:
      'Sign-ins to your account were paused after several failed attempts. If they were yours, lift the pause now.',
    done: 'Your account is unlocked: you can sign in again. If the failed attempts were not yours, choose a new password.',
  },
  invite: {
    title: 'Accept your invitation',
    intro: 'Choose your name and a password to create your account.',
    done: 'Your account is ready and your email is confirmed. Sign in with your email and new password.',
  },
  notme: {
    title: 'Was this you?',
    intro:
      'We mailed you about a new sign-in to your account. If it was not you, sign that session out and choose a new password now.',
    secured: 'That session was signed out. Now choose a new password, so whoever signed in cannot come back.',
    secured_no_session:
      'That session had already ended. Now choose a new password, so whoever signed in cannot come back.',
    done: 'Your password was changed and every session was signed out. Review your account once you are signed in.',
  },
  signin: {
    title: 'Sign in',
    intro: 'Sign in to the console with your email and password.',
    done: 'You are signed in.',
  },
  account: {
    title: 'My account',
    loading: 'Loading your account…',
    signed_out: 'You are not signed in.',
    email_verified: 'Email confirmed',
    email_unverified: 'Email not confirmed yet',
    roles: 'Roles',
    bye: 'You are signed out.',
  },
  notfound: { title: 'Page not found', intro: 'There is no console page at this address.' },
};

type Widen<T> = { [K in keyof T]: T[K] extends string ? string : Widen<T[K]> };
export type Messages = Widen<typeof en>;
