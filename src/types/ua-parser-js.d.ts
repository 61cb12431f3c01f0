// ua-parser-js 1.x (MIT) ships no types; only what src/security/tokens/user-agent.ts uses.
declare module 'ua-parser-js' {
  interface UAResult {
    browser: { name?: string; version?: string; major?: string };
    os: { name?: string; version?: string };
    device: { type?: string; vendor?: string; model?: string };
  }
  export default class UAParser {
    constructor(ua?: string);
    getResult(): UAResult;
  }
}
