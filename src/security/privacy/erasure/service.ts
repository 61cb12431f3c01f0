/**
 * Account erasure (issue 19, part 2; docs/PRIVACY.md "Erasure").
 *
 * A request (the account itself, or an admin) marks the user row: due ACCOUNT_DELETION_GRACE_DAYS
 * later, in one transaction under the roles lock that also applies the last-admin rule, so two
 * admins erasing each other at once are decided one after the other and the second is refused.
 * Until the job starts it, the erasure can be cancelled: the mailed link or signing in (the
 * account's own request), or re-enabling the account (an admin's order).
 *
 * The job (every node has it; the holder of the KV leader lease runs it) erases each due account:
 * 1. claims it (`erasure_started_at`: from then on a cancel is refused, and a crash resumes it);
 * 2. deletes its objects (media variants and quarantined originals, export archives) and the mail
 *    files of the file transport that name it: first, while the rows still say which they are;
 * 3. in one transaction: public read touched, content and every sign-in artefact deleted, mails
 *    to or about it deleted, the row replaced by a tombstone, the data keys of its personal data
 *    in the audit log destroyed (crypto-shredding), one audit event (ids and counts);
 * 4. appends the erasure to the ledger outside the database (./ledger.ts), then notes that it did.
 * Every step is idempotent: a pass that dies anywhere is finished by the next one.
 */
import { readFile, unlink } from 'node:fs/promises';
import { dirNames } from '../../../platform/dir-names.js';
import path from 'node:path';
import type { BlobStore } from '../../../platform/blob/index.js';
import type { Clock } from '../../../platform/clock.js';
import type { Db, Queryable } from '../../../platform/db/index.js';
import type { Kv } from '../../../platform/kv/index.js';
import { LeaderJob } from '../../../platform/kv/leader-job.js';
import type { Mailer } from '../../../platform/mail/index.js';
import { UsersRepository } from '../../../users/repository.js';
import type { OneTimeTokens } from '../../accounts/one-time-tokens.js';
import { AUDIT_ACTIONS } from '../../audit/actions.js';
import type { AuditEventInput, RequestContext } from '../../audit/event.js';
import { erasureErrors } from './errors.js';
import type { ErasureLedger } from './ledger.js';
import { ErasureRepository, type PendingErasure } from './repository.js';

export const ERASURE_LEASE_KEY = 'privacy-erasure:leader';
export const CANCEL_PURPOSE = 'erasure_cancel';
const DAY_MS = 86_400_000;
/** Accounts per pass: a backlog drains over a few passes. */
const BATCH = 20;

export interface ErasureDeps {
  db: Db;
  clock: Clock;
  kv?: Kv;
  audit: {
    record(event: AuditEventInput, tx?: Queryable): Promise<void>;
    /** Crypto-shredding: destroys the keys of the user's personal data in the audit log (src/security/audit/pii.ts). */
    shredUser(userId: string, email: string | null, tx: Queryable): Promise<number>;
  };
  mail: Pick<Mailer, 'enqueue' | 'templates'>;
  tokens: OneTimeTokens;
  /** The public read: the owner's portfolios leave it in the erasure's (or disabling's) transaction. */
  changes: { touchOwner(q: Queryable, ownerId: string): Promise<void> };
  /** Every token of the account ends (the tokens module, announced to every node). */
  revokeUser(userId: string, reason: 'logout_all' | 'disabled'): Promise<void>;
  /** The tombstone's raised token version, announced to every node. */
  userChanged(userId: string): Promise<void>;
  /** The upload store (media bytes); null: no media to delete (tests of the bare job). */
  mediaStore: BlobStore | null;
  ledger: ErasureLedger;
  /** DATA_DIR/outbox when mail goes to files (no SMTP_URL); null otherwise. */
  outboxDir: string | null;
  graceDays: number;
  intervalMs: number;
  log?: { warn(obj: object, msg: string): void };
}

export interface Author {
  actorId: string;
  context: Partial<RequestContext>;
}

export interface ScheduledErasure {
  status: 'scheduled';
  scheduledFor: string;
  /** False when the erasure was already pending: the first request's time is kept. */
  created: boolean;
}

export interface PassResult {
  leader: boolean;
  erased: string[];
  failed: string[];
}

export class ErasureService {
  readonly repo: ErasureRepository;
  private readonly users: UsersRepository;
  private archiveStore: BlobStore | null = null;
  private readonly job: LeaderJob<PassResult>;

  constructor(private readonly o: ErasureDeps) {
    this.repo = new ErasureRepository(o.db);
    this.users = new UsersRepository(o.db);
    // Erasures are idempotent: without the KV every node may run them, nothing breaks.
    this.job = new LeaderJob({
      label: 'erasure',
      kv: o.kv,
      leaseKey: ERASURE_LEASE_KEY,
      intervalMs: o.intervalMs,
      leaseMs: 2 * (o.intervalMs || 60_000),
      withoutLease: 'running anyway',
      pass: () => this.pass(),
      log: o.log,
    });
  }

  /** The export module's archive store when it is not the upload store (the default). */
  useArchiveStore(store: BlobStore): void {
    this.archiveStore = store;
  }

  // ---- requests and cancels ------------------------------------------------------------------

  /**
   * Schedules the erasure of `userId`. `admin`: ordered by an admin (the account is disabled at
   * once and only re-enabling it cancels); otherwise the account's own request (its sessions end,
   * signing in or the mailed link cancels). Refused for the last holder of user:manage.
   */
  async request(userId: string, by: Author, admin: boolean): Promise<ScheduledErasure> {
    const now = this.o.clock.now();
    const due = new Date(now.getTime() + this.o.graceDays * DAY_MS);
    const result = await this.o.db.transaction(async (tx) => {
      await this.repo.lockRoles(tx);
      const subject = await this.repo.subject(userId, tx);
      if (!subject || subject.erasedAt) throw erasureErrors.notFound();
      if ((await this.repo.isManager(userId, tx)) && (await this.repo.otherManagers(userId, tx)) === 0)
        throw erasureErrors.lastManager();
      const r = await this.repo.request(userId, by.actorId, now, due, tx);
      if (!r) throw erasureErrors.notFound();
      if (!r.created) return r;
      if (admin) {
        await this.users.update(userId, { disabled: true }, tx);
        await this.o.changes.touchOwner(tx, userId);
      }
      if (this.o.graceDays > 0) {
        const token = admin
          ? undefined
          : await this.o.tokens.issue(CANCEL_PURPOSE, userId, this.o.graceDays * 86_400, tx, { replace: true });
        await this.o.mail.enqueue(
          this.o.mail.templates.accountDeletionScheduled({
            to: { address: subject.email, name: subject.name },
            token,
            dueAt: due,
            byAdmin: admin,
          }),
          tx,
        );
      }
      await this.audit(
        AUDIT_ACTIONS.privacyErasureRequested,
        by,
        userId,
        { dueAt: due.toISOString(), by: admin ? 'admin' : 'self' },
        tx,
      );
      return r;
    });
    if (result.created) {
      await this.o.revokeUser(userId, admin ? 'disabled' : 'logout_all');
      if (this.o.graceDays === 0)
        await this.tick().catch((err: unknown) => this.o.log?.warn({ err }, 'erasure: pass failed'));
    }
    return { status: 'scheduled', scheduledFor: result.pending.dueAt.toISOString(), created: result.created };
  }

  /** The mailed link: cancels the account's own pending erasure. False for any bad or late link. */
  async cancelWithToken(token: unknown, context: Partial<RequestContext>): Promise<boolean> {
    return this.o.db.transaction(async (tx) => {
      const grant = await this.o.tokens.consume(CANCEL_PURPOSE, token, tx);
      if (!grant) return false;
      return this.cancelIn(tx, grant.userId, 'link', context);
    });
  }

  /** A completed sign-in: cancels the account's own pending erasure (not an admin's order). */
  async cancelOnSignIn(userId: string, context: Partial<RequestContext>): Promise<boolean> {
    return this.o.db.transaction((tx) => this.cancelIn(tx, userId, 'sign_in', context));
  }

  /** The account was re-enabled by an admin (in that change's transaction): an admin's order ends. */
  async cancelOnEnable(tx: Queryable, userId: string): Promise<boolean> {
    if (!(await this.repo.cancel(userId, false, this.o.clock.now(), tx))) return false;
    await this.audit(
      AUDIT_ACTIONS.privacyErasureCancelled,
      { actorId: 'system', context: {} },
      userId,
      { how: 'admin' },
      tx,
    );
    return true;
  }

  pending(userId: string): Promise<PendingErasure | undefined> {
    return this.repo.pending(userId);
  }

  private async cancelIn(
    tx: Queryable,
    userId: string,
    how: 'link' | 'sign_in',
    context: Partial<RequestContext>,
  ): Promise<boolean> {
    const now = this.o.clock.now();
    if (!(await this.repo.cancel(userId, true, now, tx))) return false;
    await this.o.tokens.revoke(userId, CANCEL_PURPOSE, tx);
    const subject = await this.repo.subject(userId, tx);
    if (subject) {
      await this.o.mail.enqueue(
        this.o.mail.templates.accountDeletionCancelled({
          to: { address: subject.email, name: subject.name },
          at: now,
          how,
        }),
        tx,
      );
    }
    await this.audit(AUDIT_ACTIONS.privacyErasureCancelled, { actorId: userId, context }, userId, { how }, tx);
    return true;
  }

  private async audit(
    action: string,
    by: Author,
    userId: string,
    metadata: Record<string, unknown>,
    tx: Queryable,
  ): Promise<void> {
    await this.o.audit.record(
      {
        action,
        actor: by.actorId,
        outcome: 'success',
        target: { type: 'user', id: userId },
        metadata,
        ...by.context,
      },
      tx,
    );
  }

  // ---- the job -------------------------------------------------------------------------------

  start(intervalMs = this.o.intervalMs): void {
    this.job.start(intervalMs);
  }

  stop(): Promise<void> {
    return this.job.stop();
  }

  /** One pass; a pass already running on this node is joined rather than doubled. */
  tick(): Promise<PassResult> {
    return this.job.tick();
  }

  private async pass(): Promise<PassResult> {
    const result: PassResult = { leader: false, erased: [], failed: [] };
    if (!(await this.job.leads())) return result;
    result.leader = true;
    const ids = await this.repo.claimDue(this.o.clock.now(), BATCH);
    for (const id of ids) {
      try {
        await this.eraseOne(id);
        result.erased.push(id);
      } catch (err) {
        // Left started: the next pass resumes it (its objects are still listed by its rows).
        this.o.log?.warn({ err, userId: id }, 'erasure: could not erase an account, retrying next pass');
        result.failed.push(id);
      }
    }
    await this.syncLedger();
    return result;
  }

  /** Erases one claimed account (idempotent). */
  private async eraseOne(userId: string): Promise<void> {
    const subject = await this.repo.subject(userId);
    if (!subject || subject.erasedAt) return;
    // Objects first: once the rows are gone, nothing says which objects were the account's.
    const media = this.o.mediaStore;
    if (media) for (const key of await this.repo.mediaKeys(userId)) await media.delete(key);
    // The export module keeps its archives in the upload store (openUploadStore) unless it says otherwise.
    const archives = this.archiveStore ?? media;
    if (archives) for (const key of await this.repo.exportKeys(userId)) await archives.delete(key);
    await this.sweepOutboxFiles(subject.emailCanonical);
    const at = this.o.clock.now();
    const erased = await this.o.db.transaction(async (tx) => {
      if (!(await this.repo.lockForErasure(userId, tx))) return false;
      const counts = await this.repo.counts(userId, tx);
      await this.o.changes.touchOwner(tx, userId);
      await this.repo.runErasure(userId, at, tx);
      // The audit log keeps its events (the chain must verify) but loses the keys of their personal data.
      await this.o.audit.shredUser(userId, subject.emailCanonical, tx);
      await this.audit(AUDIT_ACTIONS.privacyErasureCompleted, { actorId: 'system', context: {} }, userId, counts, tx);
      return true;
    });
    if (!erased) return;
    // A mail file written between the first sweep and the commit (a send already under way).
    await this.sweepOutboxFiles(subject.emailCanonical);
    await this.o.userChanged(userId).catch(() => undefined);
  }

  /** Writes the erasures the database has and the ledger may not, then records that it did. */
  async syncLedger(): Promise<number> {
    const rows = await this.repo.unledgered();
    if (rows.length === 0) return 0;
    await this.o.ledger.append(
      rows.map((r) => ({ subject: r.userId, erasedAt: r.erasedAt })),
      this.o.clock.now(),
    );
    await this.repo.markLedgered(
      rows.map((r) => r.userId),
      this.o.clock.now(),
    );
    return rows.length;
  }

  /**
   * Deletes the file transport's mails (DATA_DIR/outbox/*.eml) that name the address: sent to
   * it, from it (reply-to) or with it in the text. Quoted-printable soft breaks are undone first.
   */
  private async sweepOutboxFiles(emailCanonical: string): Promise<void> {
    const dir = this.o.outboxDir;
    if (!dir) return;
    const names = await dirNames(dir);
    // The address as a whole word: bob@example.test is not in jimbob@example.test.
    const escaped = emailCanonical.toLowerCase().replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    // eslint-disable-next-line security/detect-non-literal-regexp -- the address is escaped above
    const needle = new RegExp(`(^|[^a-z0-9._%+-])${escaped}($|[^a-z0-9-])`);
    for (const name of names) {
      if (!name.endsWith('.eml')) continue;
      const file = path.join(dir, name);
      const text = await readFile(file, 'utf8').catch(() => '');
      if (needle.test(text.replace(/=\r?\n/g, '').toLowerCase())) await unlink(file).catch(() => undefined);
    }
  }
}
