#!/usr/bin/env node
/**
 * `npm run release:feed -- DIR [--notes FILE] [--staging PERCENT] [--version X.Y.Z] [--date ISO]`:
 * writes latest.yml, latest-mac.yml and latest-linux*.yml for the release artifacts in DIR
 * (src/core/updates/release-feed.ts). The version defaults to package.json's.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { writeReleaseFeed } from '../core/updates/release-feed.js';
import { VERSION } from '../core/version.js';
import { errorMessage } from '../shared/errors.js';

const USAGE =
  'usage: npm run release:feed -- DIR [--notes FILE | --notes-text TEXT] [--staging PERCENT] [--version X.Y.Z] [--date ISO-DATE]\n' +
  'Writes latest.yml (Windows), latest-mac.yml and latest-linux*.yml for the artifacts in DIR: upload them with the artifacts.\n';

async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        notes: { type: 'string' },
        'notes-text': { type: 'string' },
        staging: { type: 'string' },
        version: { type: 'string' },
        date: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    process.stderr.write(`release-feed: ${errorMessage(err)}\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (positionals.length !== 1) {
    process.stderr.write(USAGE);
    return 2;
  }
  const dir = positionals[0]!;
  try {
    const notes = values.notes ? readFileSync(values.notes, 'utf8').trim() : (values['notes-text'] ?? null);
    const staging = values.staging === undefined ? null : Number(values.staging);
    if (staging !== null && (!Number.isFinite(staging) || staging < 0 || staging > 100))
      throw new Error(`--staging must be a number from 0 to 100, not "${values.staging}"`);
    let releaseDate: string | undefined;
    if (values.date) {
      const ms = Date.parse(values.date);
      if (Number.isNaN(ms)) throw new Error(`--date is not a date: "${values.date}"`);
      releaseDate = new Date(ms).toISOString();
    }
    const { written, skipped } = await writeReleaseFeed(dir, {
      version: values.version ?? VERSION,
      notes,
      stagingPercentage: staging,
      releaseDate,
    });
    for (const f of written) {
      const staged = f.feed.stagingPercentage === null ? '' : `, staged to ${f.feed.stagingPercentage}%`;
      process.stdout.write(`wrote ${f.fileName}: ${f.feed.version}${staged}, ${f.feed.files.map((x) => x.url).join(', ')}\n`);
    }
    if (skipped.length) process.stdout.write(`not release artifacts, left out: ${skipped.join(', ')}\n`);
    return 0;
  } catch (err) {
    process.stderr.write(`release-feed: ${errorMessage(err)}\n`);
    return 1;
  }
}

void main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
