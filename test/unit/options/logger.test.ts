/** The logger sinks: levels, text and JSON lines, masking. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { jsonLogger, type Logger, silentLogger, textLogger } from '../../../src/util/logger.ts';

function capture(): { stream: { write(t: string): void }; lines: () => string[] } {
  let text = '';
  return {
    stream: {
      write: (t: string) => {
        text += t;
      },
    },
    lines: () => text.split('\n').filter((l) => l !== ''),
  };
}

function everyLevel(log: Logger): void {
  log.error('e1');
  log.warn('w1');
  log.info({ phase: 'commit' }, 'i1');
  log.debug('d1');
}

describe('logger', () => {
  it('text lines: a prefix on errors and warnings, info as is, fields left out; the level filters', () => {
    const c = capture();
    everyLevel(textLogger({ stream: c.stream, prefix: 'tool: ' }));
    assert.deepEqual(c.lines(), ['tool: error: e1', 'tool: warning: w1', 'i1']);
    const d = capture();
    everyLevel(textLogger({ stream: d.stream, level: 'debug' }));
    assert.deepEqual(d.lines(), ['error: e1', 'warning: w1', 'i1', 'debug: d1']);
    const q = capture();
    everyLevel(textLogger({ stream: q.stream, level: 'error' }));
    assert.deepEqual(q.lines(), ['error: e1']);
  });

  it('JSON lines: time, level, message and fields, one object per line', () => {
    const c = capture();
    const log = jsonLogger({ stream: c.stream, level: 'warn' });
    everyLevel(log);
    log.warn({ count: 3n, path: '/x' }, 'gone');
    const lines = c.lines().map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.deepEqual(
      lines.map(({ time: _t, ...rest }) => rest),
      [
        { level: 'error', msg: 'e1' },
        { level: 'warn', msg: 'w1' },
        { level: 'warn', msg: 'gone', count: '3', path: '/x' },
      ],
    );
    for (const l of lines) assert.ok(!Number.isNaN(Date.parse(l.time as string)));
  });

  it('masks credentials in messages and fields', () => {
    const t = capture();
    textLogger({ stream: t.stream }).warn('cannot reach http://u:SECRET@h:1/x?delegation=TOKEN');
    const j = capture();
    jsonLogger({ stream: j.stream }).warn({ url: 'http://u:SECRET@h' }, 'at https://h/?sig=TOKEN');
    for (const out of [...t.lines(), ...j.lines()]) {
      assert.doesNotMatch(out, /SECRET|TOKEN/);
      assert.match(out, /\*\*\*/);
    }
  });

  it('the silent logger writes nothing', () => {
    const original = process.stderr.write;
    let wrote = false;
    process.stderr.write = (() => {
      wrote = true;
      return true;
    }) as typeof process.stderr.write;
    try {
      everyLevel(silentLogger);
    } finally {
      process.stderr.write = original;
    }
    assert.equal(wrote, false);
  });
});
