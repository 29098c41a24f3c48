import assert from 'node:assert/strict';
import { closeSync, linkSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, it } from 'node:test';
import { spawn } from 'node:child_process';

import { CATCH_ALL_DIR_MODE, CatchAllLog, LINE_LIMIT } from '../../src/log/catch-all.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function catchAll(options: { maxFileBytes?: number; maxFiles?: number; timestamps?: 'none' | 'iso' } = {}): { log: CatchAllLog; dir: string } {
  const dir = join(mkdtempSync(join(tmpdir(), 'steward-catchall-')), 'uncaught-logs');
  dirs.push(join(dir, '..'));
  const log = new CatchAllLog({ dir, copyToStderr: false, timestamps: options.timestamps ?? 'none', maxFileBytes: options.maxFileBytes ?? 1_000_000, maxFiles: options.maxFiles ?? 10, owner: null });
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

  it("logs what the pipe holds before Steward's own line: a service's last words come before the line about its death", () => {
    const { log, dir } = catchAll();
    log.start();
    writeSync(log.writeFd, 'crash: FATAL: config missing\nhalf a line');
    log.writeOwn('service crash: warning: exited 1 unexpectedly\n');
    writeSync(log.writeFd, ', then the rest\n');
    finish(log);
    assert.equal(readFileSync(join(dir, 'current'), 'utf8'), 'crash: FATAL: config missing\nservice crash: warning: exited 1 unexpectedly\nhalf a line, then the rest\n');
  });

  it('stops reading at exit after a bounded amount when a writer it could not stop keeps writing', { timeout: 60_000 }, () => {
    const { log, dir } = catchAll({ maxFileBytes: 1 << 20, maxFiles: 2 });
    log.start();
    // yes never stops on its own: as a service the kernel would not let Steward kill.
    const writer = spawn('yes', ['a line that never ends being written'], { stdio: ['ignore', log.writeFd, 'ignore'] });
    try {
      log.close();
    } finally {
      writer.kill('SIGKILL');
      closeSync(log.writeFd);
    }
    assert.ok(readdirSync(dir).includes('current'));
  });

  it('writes only to a current of its own: a link or a second name planted there is replaced, not written through', () => {
    for (const plant of ['symlink', 'hardlink'] as const) {
      const parent = mkdtempSync(join(tmpdir(), 'steward-catchall-'));
      dirs.push(parent);
      const dir = join(parent, 'uncaught-logs');
      mkdirSync(dir);
      const victim = join(parent, 'victim');
      writeFileSync(victim, 'secret\n', { mode: 0o600 });
      if (plant === 'symlink') symlinkSync(victim, join(dir, 'current'));
      else linkSync(victim, join(dir, 'current'));
      const log = new CatchAllLog({ dir, copyToStderr: false, timestamps: 'none', maxFileBytes: 1_000_000, maxFiles: 10, owner: null });
      log.write('a service line\n');
      finish(log);
      assert.equal(readFileSync(victim, 'utf8'), 'secret\n', plant);
      assert.equal(statSync(victim).mode & 0o777, 0o600, plant);
      assert.ok(lstatSync(join(dir, 'current')).isFile(), plant);
      assert.equal(readFileSync(join(dir, 'current'), 'utf8'), 'a service line\n', plant);
    }
  });

  it('keeps the directory to its owner, as s6-linux-init-maker makes it: every service prints there', () => {
    const { log, dir } = catchAll();
    finish(log);
    assert.equal(statSync(dir).mode & 0o7777, CATCH_ALL_DIR_MODE);
    assert.equal(CATCH_ALL_DIR_MODE, 0o2700);
  });

  it("stamps T in the container's time zone, as s6-log does", () => {
    // Nine hours from UTC, so that a UTC stamp cannot pass; Node takes a new TZ at once.
    const saved = process.env['TZ'];
    process.env['TZ'] = 'Asia/Tokyo';
    const { log, dir } = catchAll({ timestamps: 'iso' });
    const before = new Date();
    try {
      log.writeOwn('stamped\n');
      finish(log);
    } finally {
      if (saved === undefined) delete process.env['TZ'];
      else process.env['TZ'] = saved;
    }
    const stamp = /^(\d{4})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d)\.\d{9} {2}stamped\n$/.exec(readFileSync(join(dir, 'current'), 'utf8'));
    assert.ok(stamp, 'YYYY-MM-DD HH:MM:SS.nnnnnnnnn, two spaces, the line');
    // Tokyo has no summer time: UTC+9 all year.
    const asTokyo = Date.UTC(Number(stamp[1]), Number(stamp[2]) - 1, Number(stamp[3]), Number(stamp[4]), Number(stamp[5]), Number(stamp[6])) - 9 * 3600_000;
    assert.ok(Math.abs(asTokyo - before.getTime()) < 5000, `${stamp[0]} read as Tokyo time is ${new Date(asTokyo).toISOString()}, the write was at ${before.toISOString()}`);
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

  it('rotates on when a directory is named as its oldest archive: left there, and no line lost', () => {
    const { log, dir } = catchAll({ maxFileBytes: 4096, maxFiles: 2 });
    mkdirSync(join(dir, '@000000000000000000000000.s'));
    for (let index = 0; index < 100; index++) log.write(`${String(index).padStart(3, '0')} ${'x'.repeat(200)}\n`);
    finish(log);
    const lines = readdirSync(dir)
      .filter((name) => name !== '@000000000000000000000000.s')
      .flatMap((name) => readFileSync(join(dir, name), 'utf8').split('\n'))
      .filter((line) => line !== '');
    assert.ok(lines.some((line) => line.startsWith('099 ')), 'the last line was lost');
    assert.match(readFileSync(join(dir, 'current'), 'utf8'), /099 x+\n$/);
    assert.ok(readdirSync(dir).filter((name) => name.startsWith('@')).length <= 3);
  });
});
