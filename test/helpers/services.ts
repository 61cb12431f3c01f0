/**
 * Which real services this test run was given. Unset: the embedded default is used.
 * Set but unreachable: tests fail (never silently skip), so CI cannot pass without the service.
 */
export const TEST_DATABASE_URL = process.env['TEST_DATABASE_URL'] || undefined;
export const TEST_REDIS_URL = process.env['TEST_REDIS_URL'] || undefined;
export const IN_CI = process.env['CI'] === 'true';
