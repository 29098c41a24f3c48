import assert from 'node:assert/strict';
import { closeSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, it } from 'node:test';

import { CatchAllLog, LINE_LIMIT } from '../../src/log/catch-all.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function catchAll(options: { maxFileBytes?: number; maxFiles?: number } = {}): { log: CatchAllLog; dir: string } {
  const dir = join(mkdtempSync(join(tmpdir(), 'steward-catchall-')), 'uncaught-logs');
  dirs.push(join(dir, '..'));
  const log = new CatchAllLog({ dir, copyToStderr: false, timestamps: 'none', maxFileBytes: options.maxFileBytes ?? 1_000_000, maxFiles: options.maxFiles ?? 10, owner: null });
  return { log, dir };
}

function finish(log: CatchAllLog): void {
  log.close();
  closeSync(log.writeFd);
}

describe('the catch-all log', () => {
  it('keeps bytes as they come, as s6-log does: text that is not UTF-8 is not rewritten', () => {
    const { log, dir } = catchAll();
    log.write(Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x20, 0xff, 0xfe, 0x80, 0x0a]));
    finish(log);
    assert.deepEqual(readFileSync(join(dir, 'current')), Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x20, 0xff, 0xfe, 0x80, 0x0a]));
  });

  it('joins a line written in pieces, and logs a partial line at the end', () => {
    const { log, dir } = catchAll();
    log.write('one ');
    log.write(Buffer.from('line\ntwo'));
    log.write('\nunfinished');
    finish(log);
    assert.equal(readFileSync(join(dir, 'current'), 'utf8'), 'one line\ntwo\nunfinished\n');
  });

  it("keeps Steward's own lines whole, apart from a service's line still being written", () => {
    const { log, dir } = catchAll();
    log.write('half of a ');
    log.writeOwn('steward: info: a line of its own\n');
    log.write('service line\n');
    finish(log);
    assert.equal(readFileSync(join(dir, 'current'), 'utf8'), 'steward: info: a line of its own\nhalf of a service line\n');
  });

  it(`logs a line longer than ${LINE_LIMIT} bytes in pieces of that size, however it arrives, and one of exactly that size whole`, () => {
    const { log, dir } = catchAll();
    for (let index = 0; index < 5; index++) log.write('a'.repeat(4000));
    log.write('\n');
    log.write(`${'b'.repeat(LINE_LIMIT)}\n`);
    finish(log);
    const lines = readFileSync(join(dir, 'current'), 'utf8').split('\n').slice(0, -1);
    assert.deepEqual(
      lines.map((line) => line.length),
      [LINE_LIMIT, LINE_LIMIT, 20_000 - 2 * LINE_LIMIT, LINE_LIMIT],
    );
    assert.equal(lines[3], 'b'.repeat(LINE_LIMIT));
  });

  it('loses lines on a full disk rather than throwing (PID 1 must not die of a full /run)', () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'steward-catchall-')), 'uncaught-logs');
    dirs.push(join(dir, '..'));
    mkdirSync(dir);
    // Every write to /dev/full fails with ENOSPC, as on a full tmpfs.
    symlinkSync('/dev/full', join(dir, 'current'));
    const log = new CatchAllLog({ dir, copyToStderr: false, timestamps: 'none', maxFileBytes: 1_000_000, maxFiles: 10, owner: null });
    assert.doesNotThrow(() => {
      for (let index = 0; index < 10; index++) log.write(`line ${index}\n`);
    });
    assert.doesNotThrow(() => finish(log));
  });

  it('rotates current past its size and keeps only the newest archives', () => {
    const { log, dir } = catchAll({ maxFileBytes: 4096, maxFiles: 2 });
    for (let index = 0; index < 100; index++) log.write(`${String(index).padStart(3, '0')} ${'x'.repeat(200)}\n`);
    finish(log);
    const archives = readdirSync(dir).filter((name) => name.startsWith('@')).sort();
    assert.equal(archives.length, 2);
    // Rotated within the same millisecond, the newest archives are still whole and in order.
    const archived = archives.map((name) => readFileSync(join(dir, name), 'utf8'));
    const firstNumbers = archived.map((text) => Number(text.slice(0, 3)));
    assert.equal(firstNumbers[1]! - firstNumbers[0]!, archived[0]!.split('\n').length - 1, 'an archive was overwritten');
    assert.match(readFileSync(join(dir, 'current'), 'utf8'), /^\d{3} x+\n/);
    assert.match(readFileSync(join(dir, 'current'), 'utf8'), /099 x+\n$/);
  });
});
