/**
 * CEL's `matches()` takes RE2 syntax; the API server evaluates it with RE2, the constructs with
 * JavaScript's RegExp. The two read the CRDs' patterns the same way except for RE2 forms that V8
 * only accepts from Node 23 (inline flag groups), so those are rewritten into forms every
 * supported Node reads: `(?i:JAN|FEB)` becomes `(?:[Jj][Aa][Nn]|[Ff][Ee][Bb])`, and `(?P<name>`
 * becomes `(?<name>`. Anything else passes through unchanged.
 */
export function re2ToRegExp(pattern: string): RegExp {
  let compiled = COMPILED.get(pattern);
  if (!compiled) {
    compiled = new RegExp(translate(pattern), 'u');
    COMPILED.set(pattern, compiled);
  }
  return compiled;
}

/** The CRDs hold a few dozen patterns, each evaluated many times at synth. */
const COMPILED = new Map<string, RegExp>();

/** The pattern in syntax V8 reads on every supported Node (exported for tests). */
export function translate(pattern: string): string {
  let out = '';
  let i = 0;
  while (i < pattern.length) {
    if (pattern.startsWith('(?i:', i)) {
      const end = groupEnd(pattern, i);
      out += `(?:${caseless(translate(pattern.slice(i + 4, end)))})`;
      i = end + 1;
    } else if (pattern.startsWith('(?P<', i)) {
      out += '(?<';
      i += 4;
    } else if (pattern[i] === '\\') {
      out += pattern.slice(i, i + 2);
      i += 2;
    } else if (pattern[i] === '[') {
      const end = classEnd(pattern, i);
      out += pattern.slice(i, end + 1);
      i = end + 1;
    } else {
      out += pattern[i];
      i++;
    }
  }
  return out;
}

/** Index of the `)` closing the group opened at `start`, skipping escapes and character classes. */
function groupEnd(pattern: string, start: number): number {
  let depth = 0;
  for (let i = start; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '\\') i++;
    else if (c === '[') i = classEnd(pattern, i);
    else if (c === '(') depth++;
    else if (c === ')' && --depth === 0) return i;
  }
  throw new SyntaxError(`unbalanced group in regular expression ${JSON.stringify(pattern)}`);
}

/** Index of the `]` closing the character class opened at `start`. */
function classEnd(pattern: string, start: number): number {
  let i = start + 1;
  if (pattern[i] === '^') i++;
  if (pattern[i] === ']') i++; // a leading ] is a literal
  for (; i < pattern.length; i++) {
    if (pattern[i] === '\\') i++;
    else if (pattern[i] === ']') return i;
  }
  throw new SyntaxError(`unterminated character class in regular expression ${JSON.stringify(pattern)}`);
}

/** Matches letters in either case: literals become `[xX]`, classes gain the other case's letters. */
function caseless(pattern: string): string {
  let out = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    if (c === '\\') {
      out += pattern.slice(i, i + 2);
      i++;
    } else if (c === '[') {
      const end = classEnd(pattern, i);
      out += caselessClass(pattern.slice(i, end + 1));
      i = end;
    } else if (/[A-Za-z]/.test(c)) {
      out += `[${c.toUpperCase()}${c.toLowerCase()}]`;
    } else {
      out += c;
    }
  }
  return out;
}

/** `[a-cX]` becomes `[a-cXA-Cx]`: every letter and letter range also in its other case. */
function caselessClass(cls: string): string {
  const body = cls.slice(1, -1);
  const negated = body.startsWith('^');
  const items = negated ? body.slice(1) : body;
  let extra = '';
  for (let i = 0; i < items.length; i++) {
    const c = items[i] as string;
    if (c === '\\') {
      i++;
      continue;
    }
    const isRange = items[i + 1] === '-' && i + 2 < items.length;
    const last = isRange ? (items[i + 2] as string) : c;
    if (/[A-Za-z]/.test(c) && /[A-Za-z]/.test(last)) extra += isRange ? `${swap(c)}-${swap(last)}` : swap(c);
    if (isRange) i += 2;
  }
  return `[${negated ? '^' : ''}${items}${extra}]`;
}

function swap(c: string): string {
  return c === c.toUpperCase() ? c.toLowerCase() : c.toUpperCase();
}
