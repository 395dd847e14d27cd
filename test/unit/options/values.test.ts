/** The value rules shared by flags, catalog config and storage properties. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '../../../src/errors.ts';
import {
  bool,
  duration,
  flag,
  nonNegativeInt,
  oneOf,
  parseSetting,
  positiveInt,
  positiveNumber,
  type Rule,
} from '../../../src/options/values.ts';

/** Asserts that `rule` gives `expected` for each raw value. */
function accepts<T>(rule: Rule<T>, cases: [unknown, T][]): void {
  for (const [raw, expected] of cases) {
    assert.deepEqual(parseSetting(rule, 'x', raw), expected, `value ${JSON.stringify(raw)}`);
  }
}

/** Asserts that `rule` refuses each raw value with a ConfigError naming the setting and the value. */
function refuses(rule: Rule<unknown>, raws: unknown[], what: RegExp): void {
  for (const raw of raws) {
    assert.throws(
      () => parseSetting(rule, 'some.setting', raw),
      (e: Error) => {
        assert.ok(e instanceof ConfigError, String(e));
        assert.match(e.message, /^some\.setting: /);
        assert.match(e.message, what);
        const shown = typeof raw === 'string' ? `'${raw}'` : JSON.stringify(raw);
        assert.ok(e.message.endsWith(`(got ${shown})`), e.message);
        return true;
      },
      `value ${JSON.stringify(raw)}`,
    );
  }
}

describe('option value rules', () => {
  it('positive whole numbers: digits only, 1 or more', () => {
    accepts(positiveInt, [
      ['1', 1],
      ['8', 8],
      [' 16 ', 16],
      [32, 32],
      ['9007199254740991', 9007199254740991],
    ]);
    refuses(
      positiveInt,
      ['0', '-3', 'abc', '2.5', '1e3', '0x10', '', '+4', '9007199254740993', 0, -1, 2.5, true, null],
      /must be a positive whole number/,
    );
  });

  it('non-negative whole numbers take 0 too', () => {
    accepts(nonNegativeInt, [
      ['0', 0],
      ['7', 7],
      [0, 0],
    ]);
    refuses(nonNegativeInt, ['-1', 'x', '1.5'], /must be a whole number, 0 or more/);
  });

  it('positive numbers may have a fraction', () => {
    accepts(positiveNumber, [
      ['0.5', 0.5],
      ['2', 2],
      [1.25, 1.25],
    ]);
    refuses(positiveNumber, ['0', '-1', 'Infinity', 'NaN', '1e3', 'abc'], /must be a positive number/);
  });

  it('booleans: true/false, yes/no, 1/0 in any case, and YAML booleans', () => {
    accepts(bool, [
      ['true', true],
      ['TRUE', true],
      ['yes', true],
      ['1', true],
      [1, true],
      [true, true],
      ['false', false],
      ['No', false],
      ['0', false],
      [false, false],
    ]);
    refuses(bool, ['maybe', 'on', '', 2], /must be true or false/);
  });

  it('durations: plain seconds or a number with ms, s, m or h, as milliseconds', () => {
    const positive = duration();
    accepts(positive, [
      ['60', 60_000],
      [10, 10_000],
      ['1.5', 1500],
      ['500ms', 500],
      ['90s', 90_000],
      ['5m', 300_000],
      ['1h', 3_600_000],
      ['2 H', 7_200_000],
    ]);
    refuses(
      positive,
      ['0', '0s', '-1', '5 minutes', '1d', 'abc', '', '1e3', '600h'],
      /must be a positive number of seconds/,
    );
    const maybeZero = duration({ allowZero: true });
    accepts(maybeZero, [
      ['0', 0],
      ['0s', 0],
      ['60', 60_000],
    ]);
    refuses(maybeZero, ['-5', 'soon'], /must be a number of seconds, 0 or more, or a duration with a unit/);
  });

  it('enumerations compare as text, so a flag string matches a number', () => {
    const version = oneOf([1, 2, 3] as const);
    accepts(version, [
      ['2', 2],
      [3, 3],
    ]);
    refuses(version, ['4', '0', 'two', '2.0'], /must be 1, 2 or 3/);
    refuses(oneOf(['text', 'json']), ['JSON', 'xml'], /must be text or json/);
  });

  it('a flag parser names the flag', () => {
    const parse = flag(positiveInt, '--concurrency');
    assert.equal(parse('4'), 4);
    assert.throws(() => parse('-3'), {
      name: 'ConfigError',
      message: "--concurrency: must be a positive whole number (got '-3')",
    });
  });

  it('never shows the value of a secret setting, and masks URL credentials in any other', () => {
    assert.throws(
      () => parseSetting(positiveInt, 'catalog.dr.jdbc.password', 'hunter2'),
      (e: Error) => {
        assert.equal(e.message, 'catalog.dr.jdbc.password: must be a positive whole number');
        return true;
      },
    );
    assert.throws(
      () => parseSetting(positiveInt, 'x', 'http://u:hunter2@h'),
      (e: Error) => {
        assert.equal(e.message, "x: must be a positive whole number (got 'http://u:***@h')");
        return true;
      },
    );
  });
});
