/**
 * Password strength as the server measures it (src/users/password.ts): zxcvbn-ts with the common
 * and English dictionaries, the same length bounds. The dictionaries are large, so they are a
 * lazy chunk fetched when a password form first needs them.
 */
import type { ZxcvbnFactory } from '@zxcvbn-ts/core';

export const PASSWORD_MIN_LENGTH = 12;
export const PASSWORD_MAX_LENGTH = 128;

let factory: Promise<ZxcvbnFactory> | null = null;

function load(): Promise<ZxcvbnFactory> {
  factory ??= Promise.all([
    import('@zxcvbn-ts/core'),
    import('@zxcvbn-ts/language-common'),
    import('@zxcvbn-ts/language-en'),
  ]).then(
    ([{ ZxcvbnFactory: Factory }, common, english]) =>
      new Factory({
        dictionary: { ...common.dictionary, ...english.dictionary },
        graphs: common.adjacencyGraphs,
        translations: english.translations,
      }),
  );
  return factory;
}

export interface Strength {
  score: 0 | 1 | 2 | 3 | 4;
  warning: string | null;
}

export async function estimate(password: string, userInputs: string[] = []): Promise<Strength> {
  const result = (await load()).check(password, userInputs);
  return { score: result.score, warning: result.feedback.warning ?? result.feedback.suggestions[0] ?? null };
}
