/**
 * The RE2 patterns of the CRDs' `matches()` rules, rewritten for every supported Node: the
 * rewrite reads every input exactly as the original does (compared on Node 24, whose RegExp takes
 * the original `(?i:…)` too), and leaves no syntax that Node 22 refuses.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { re2ToRegExp, translate } from '../../../lib/validation/re2.ts';

const CRDS = join(import.meta.dirname, '../../../crds');
const patterns = [
  ...new Set(
    readdirSync(CRDS).flatMap((f) =>
      [...readFileSync(join(CRDS, f), 'utf8').matchAll(/matches\('((?:[^'\\]|\\.)*)'\)/g)].map((m) =>
        (m[1] as string).replace(/\\\\/g, '\\'),
      ),
    ),
  ),
];

describe('RE2 patterns for every Node', () => {
  test('the CRDs use matches() with inline flag groups (what this covers)', () => {
    assert.ok(patterns.length > 10, `${patterns.length} patterns`);
    assert.ok(patterns.some((p) => p.includes('(?i:')));
  });

  test('no rewritten pattern keeps syntax Node 22 refuses, and each compiles', () => {
    for (const p of patterns) {
      const t = translate(p);
      assert.ok(!/\(\?[a-zA-Z]/.test(t.replace(/\(\?<[A-Za-z]/g, '')), t);
      assert.doesNotThrow(() => new RegExp(t, 'u'), p);
    }
  });

  test('inline case-insensitive groups, letter classes and named groups', () => {
    assert.equal(translate('^(?i:JAN|feb)$'), '^(?:[Jj][Aa][Nn]|[Ff][Ee][Bb])$');
    assert.equal(translate('(?i:[a-c]x[0-9])'), '(?:[a-cA-C][Xx][0-9])');
    assert.equal(translate('(?i:\\d[^q])'), '(?:\\d[^qQ])');
    assert.equal(translate('[(?i:]x'), '[(?i:]x', 'inside a class it is literal');
    assert.equal(translate('(?P<month>[0-9]+)'), '(?<month>[0-9]+)');
    assert.throws(() => translate('(?i:JAN'), /unbalanced group/);
  });

  test('every CRD pattern gives the same verdict as the original on any input', () => {
    const alphabet = fc.constantFrom(
      ...'0123456789 */,-?@JANFEBMRPYULGSOCTVDjanfebmrpyulgsoctvdSUNMOTWEDHFRsunmotwehfrIi'.split(''),
    );
    const word = fc.constantFrom('JAN', 'jan', 'Jan', 'MON', 'mon', 'sUn', 'FRI', 'dec', '@daily', '*', '0');
    const input = fc.array(fc.oneof(alphabet, word), { maxLength: 30 }).map((parts) => parts.join(''));
    for (const p of patterns.filter((x) => x.includes('(?i:'))) {
      const original = new RegExp(p, 'u');
      fc.assert(
        fc.property(input, (s) => {
          assert.equal(re2ToRegExp(p).test(s), original.test(s), `${JSON.stringify(s)}`);
        }),
        { numRuns: 300 },
      );
    }
    // Schedules with names in any case: accepted by a cron pattern, rewritten or not.
    for (const s of ['0 0 1 jan mon', '0 0 1 Jan-MAR Mon-fri', '0 0 0 1 JAN SUN']) {
      const hits = patterns.filter((p) => re2ToRegExp(p).test(s) !== new RegExp(p, 'u').test(s));
      assert.deepEqual(hits, [], s);
      assert.ok(
        patterns.some((p) => re2ToRegExp(p).test(s)),
        `${s} is accepted`,
      );
    }
  });
});
