/**
 * The uploads plugin's place in the plugin graph: infection notices go through `app.mail`, so
 * `mail` is a declared dependency (a start-up error when missing), not a run-time lookup that
 * silently skips the notice.
 */
import { describe, expect, it } from 'vitest';
import { uploadsPlugin } from './plugin.js';

describe('uploadsPlugin', () => {
  it('declares mail among its dependencies', () => {
    const meta = (uploadsPlugin as unknown as Record<symbol, { name?: string; dependencies?: string[] } | undefined>)[
      Symbol.for('plugin-meta')
    ];
    expect(meta?.name).toBe('uploads');
    expect(meta?.dependencies).toContain('mail');
  });
});
