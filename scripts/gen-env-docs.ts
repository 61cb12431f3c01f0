import { readFile, writeFile } from 'node:fs/promises';
import { renderEnvExample, replaceReadmeTable } from '../src/config/docs.js';

/** Regenerates `.env.example` and the README configuration table from the config schema. */
await writeFile('.env.example', renderEnvExample());
await writeFile('README.md', replaceReadmeTable(await readFile('README.md', 'utf8')));
process.stdout.write('Wrote .env.example and the README configuration table.\n');
