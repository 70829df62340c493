/**
 * An interpreter for the subset of CEL (the Common Expression Language) that the CRDs' validation
 * rules use, so the constructs evaluate the very rules in `crds/` at synth time instead of a copy.
 *
 * Supported: literals (int, double, string, bool, null, lists), `self`/`oldSelf`, field selection,
 * indexing, `has()`, `size()`, `int()`, `string()`, `timestamp()`, the operators `! - * / % + < <= > >=
 * == != in && || ?:`, the string methods `matches startsWith endsWith contains size`, and the
 * macros `all exists exists_one map filter`. Anything else fails to parse with a clear error, and
 * a unit test parses every rule in `crds/`, so a rule outside the subset is caught at once.
 */
import { re2ToRegExp } from './re2.ts';

export class CelError extends Error {}

type Node =
  | { t: 'lit'; v: unknown }
  | { t: 'ident'; name: string }
  | { t: 'list'; items: Node[] }
  | { t: 'select'; target: Node; field: string }
  | { t: 'index'; target: Node; index: Node }
  | { t: 'call'; fn: string; target?: Node; args: Node[] }
  | { t: 'unary'; op: string; arg: Node }
  | { t: 'binary'; op: string; left: Node; right: Node }
  | { t: 'cond'; test: Node; then: Node; else: Node };

/** A timestamp value: date-time strings become these (as the API server does for `format: date-time`). */
export class Timestamp {
  constructor(readonly ms: number) {}
}

const TOKEN =
  /\s*(?:(?<num>\d+\.\d+|\d+)|(?<str>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")|(?<id>[A-Za-z_][A-Za-z0-9_]*)|(?<op>&&|\|\||==|!=|<=|>=|[-+*/%!<>?:.,()[\]]))/y;

function tokenize(source: string): string[] {
  const tokens: string[] = [];
  TOKEN.lastIndex = 0;
  while (TOKEN.lastIndex < source.length) {
    if (/^\s*$/.test(source.slice(TOKEN.lastIndex))) break;
    const at = TOKEN.lastIndex;
    const m = TOKEN.exec(source);
    if (!m) throw new CelError(`unsupported CEL at ${at}: ${source.slice(at, at + 20)}`);
    tokens.push(m[0].trim());
  }
  return tokens;
}

/** Parses a CEL expression of the supported subset. */
export function parseCel(source: string): Node {
  const tokens = tokenize(source);
  let pos = 0;
  const peek = () => tokens[pos];
  const next = () => {
    const token = tokens[pos++];
    if (token === undefined) throw new CelError(`unexpected end of CEL expression: ${source}`);
    return token;
  };
  const expect = (token: string) => {
    const got = next();
    if (got !== token) throw new CelError(`expected '${token}' but found '${got}' in: ${source}`);
  };

  const expr = (): Node => {
    const test = or();
    if (peek() !== '?') return test;
    next();
    const then = expr();
    expect(':');
    return { t: 'cond', test, then, else: expr() };
  };
  const binaryLevel = (ops: readonly string[], lower: () => Node) => (): Node => {
    let left = lower();
    while (ops.includes(peek() ?? '')) {
      const op = next();
      left = { t: 'binary', op, left, right: lower() };
    }
    return left;
  };
  const unary = (): Node => {
    if (peek() === '!' || peek() === '-') {
      const op = next();
      return { t: 'unary', op, arg: unary() };
    }
    return member();
  };
  const mul = binaryLevel(['*', '/', '%'], unary);
  const add = binaryLevel(['+', '-'], mul);
  const rel = binaryLevel(['<', '<=', '>', '>=', '==', '!=', 'in'], add);
  const and = binaryLevel(['&&'], rel);
  const or = binaryLevel(['||'], and);

  const args = (): Node[] => {
    const list: Node[] = [];
    expect('(');
    if (peek() !== ')') {
      list.push(expr());
      while (peek() === ',') {
        next();
        list.push(expr());
      }
    }
    expect(')');
    return list;
  };
  const member = (): Node => {
    let node = primary();
    for (;;) {
      if (peek() === '.') {
        next();
        const field = next();
        node =
          peek() === '('
            ? { t: 'call', fn: field, target: node, args: args() }
            : { t: 'select', target: node, field };
      } else if (peek() === '[') {
        next();
        const index = expr();
        expect(']');
        node = { t: 'index', target: node, index };
      } else {
        return node;
      }
    }
  };
  const primary = (): Node => {
    const token = next();
    if (token === '(') {
      const inner = expr();
      expect(')');
      return inner;
    }
    if (token === '[') {
      const items: Node[] = [];
      if (peek() !== ']') {
        items.push(expr());
        while (peek() === ',') {
          next();
          items.push(expr());
        }
      }
      expect(']');
      return { t: 'list', items };
    }
    if (/^\d/.test(token)) return { t: 'lit', v: Number(token) };
    if (token.startsWith("'") || token.startsWith('"'))
      return { t: 'lit', v: unescapeCel(token.slice(1, -1)) };
    if (token === 'true' || token === 'false') return { t: 'lit', v: token === 'true' };
    if (token === 'null') return { t: 'lit', v: null };
    if (/^[A-Za-z_]/.test(token)) {
      return peek() === '(' ? { t: 'call', fn: token, args: args() } : { t: 'ident', name: token };
    }
    throw new CelError(`unexpected '${token}' in: ${source}`);
  };

  const tree = expr();
  if (pos !== tokens.length) throw new CelError(`unexpected '${tokens[pos]}' in: ${source}`);
  return tree;
}

function unescapeCel(body: string): string {
  return body.replace(/\\(.)/g, (_, c: string) => ({ n: '\n', t: '\t', r: '\r' })[c] ?? c);
}

/** Names bound while evaluating: `self`, `oldSelf`, and macro variables. */
export type Scope = Readonly<Record<string, unknown>>;

/** Evaluates a parsed expression. Objects are plain JSON; date-times should be `Timestamp`s. */
export function evaluateCel(node: Node, scope: Scope): unknown {
  switch (node.t) {
    case 'lit':
      return node.v;
    case 'ident':
      if (!(node.name in scope)) throw new CelError(`undeclared reference to '${node.name}'`);
      return scope[node.name];
    case 'list':
      return node.items.map((item) => evaluateCel(item, scope));
    case 'select': {
      const target = evaluateCel(node.target, scope);
      const value = isMap(target) ? target[node.field] : undefined;
      if (value === undefined) throw new CelError(`no such key: ${node.field}`);
      return value;
    }
    case 'index': {
      const target = evaluateCel(node.target, scope);
      const index = evaluateCel(node.index, scope);
      const value = Array.isArray(target)
        ? target[index as number]
        : isMap(target)
          ? target[String(index)]
          : undefined;
      if (value === undefined) throw new CelError(`no such key: ${String(index)}`);
      return value;
    }
    case 'unary': {
      const value = evaluateCel(node.arg, scope);
      return node.op === '!' ? !asBool(value) : -(value as number);
    }
    case 'cond':
      return asBool(evaluateCel(node.test, scope))
        ? evaluateCel(node.then, scope)
        : evaluateCel(node.else, scope);
    case 'binary':
      return binary(node, scope);
    case 'call':
      return call(node, scope);
  }
}

function binary(node: Extract<Node, { t: 'binary' }>, scope: Scope): unknown {
  if (node.op === '&&' || node.op === '||') {
    // CEL's logical operators are commutative with errors: false && error is false, true || error is true.
    const attempt = (n: Node): boolean | CelError => {
      try {
        return asBool(evaluateCel(n, scope));
      } catch (e) {
        if (e instanceof CelError) return e;
        throw e;
      }
    };
    const left = attempt(node.left);
    const short = node.op === '||';
    if (left === short) return short;
    const right = attempt(node.right);
    if (right === short) return short;
    if (left instanceof CelError) throw left;
    if (right instanceof CelError) throw right;
    return !short;
  }
  const left = evaluateCel(node.left, scope);
  const right = evaluateCel(node.right, scope);
  switch (node.op) {
    case '==':
      return equal(left, right);
    case '!=':
      return !equal(left, right);
    case 'in':
      if (Array.isArray(right)) return right.some((item) => equal(item, left));
      if (isMap(right)) return Object.hasOwn(right, String(left));
      throw new CelError("'in' needs a list or map");
    case '<':
      return compare(left, right) < 0;
    case '<=':
      return compare(left, right) <= 0;
    case '>':
      return compare(left, right) > 0;
    case '>=':
      return compare(left, right) >= 0;
    case '+':
      if (Array.isArray(left) && Array.isArray(right)) return [...left, ...right];
      if (typeof left === 'string' && typeof right === 'string') return left + right;
      return num(left) + num(right);
    case '-':
      return num(left) - num(right);
    case '*':
      return num(left) * num(right);
    case '/':
      return Math.trunc(num(left) / num(right));
    case '%':
      return num(left) % num(right);
  }
  throw new CelError(`unsupported operator ${node.op}`);
}

function call(node: Extract<Node, { t: 'call' }>, scope: Scope): unknown {
  const { fn, target, args } = node;
  if (fn === 'has' && !target) {
    const [arg] = args;
    if (args.length !== 1 || arg?.t !== 'select')
      throw new CelError('has() needs a field selection like has(self.x)');
    const holder = evaluateCel(arg.target, scope);
    return isMap(holder) && holder[arg.field] !== undefined;
  }
  if (target && ['all', 'exists', 'exists_one', 'map', 'filter'].includes(fn)) {
    const [variable, body] = args;
    if (variable?.t !== 'ident' || !body) throw new CelError(`${fn}() needs a variable and an expression`);
    const collection = evaluateCel(target, scope);
    const items = Array.isArray(collection)
      ? collection
      : isMap(collection)
        ? Object.keys(collection)
        : undefined;
    if (!items) throw new CelError(`${fn}() needs a list or map`);
    const run = (item: unknown) => evaluateCel(body, { ...scope, [variable.name]: item });
    if (fn === 'all') return items.every((item) => asBool(run(item)));
    if (fn === 'exists') return items.some((item) => asBool(run(item)));
    if (fn === 'exists_one') return items.filter((item) => asBool(run(item))).length === 1;
    if (fn === 'map') return items.map(run);
    return items.filter((item) => asBool(run(item)));
  }
  const values = args.map((arg) => evaluateCel(arg, scope));
  const self = target === undefined ? undefined : evaluateCel(target, scope);
  const subject = target === undefined ? values[0] : self;
  switch (fn) {
    case 'size':
      if (typeof subject === 'string') return [...subject].length;
      if (Array.isArray(subject)) return subject.length;
      if (isMap(subject)) return Object.keys(subject).length;
      break;
    case 'matches':
      return re2ToRegExp(String(values[0])).test(str(self));
    case 'startsWith':
      return str(self).startsWith(str(values[0]));
    case 'endsWith':
      return str(self).endsWith(str(values[0]));
    case 'contains':
      return str(self).includes(str(values[0]));
    case 'int':
      return Math.trunc(subject instanceof Timestamp ? subject.ms / 1000 : Number(subject));
    case 'string':
      return subject instanceof Timestamp ? new Date(subject.ms).toISOString() : String(subject);
    case 'timestamp':
      return new Timestamp(Date.parse(str(subject)));
  }
  throw new CelError(`unsupported CEL function ${fn}()`);
}

function equal(a: unknown, b: unknown): boolean {
  if (a instanceof Timestamp && b instanceof Timestamp) return a.ms === b.ms;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => equal(x, b[i]));
  if (isMap(a) && isMap(b)) {
    const keys = Object.keys(a);
    return (
      keys.length === Object.keys(b).length && keys.every((k) => Object.hasOwn(b, k) && equal(a[k], b[k]))
    );
  }
  return a === b;
}

function compare(a: unknown, b: unknown): number {
  if (a instanceof Timestamp && b instanceof Timestamp) return a.ms - b.ms;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  throw new CelError('no such overload for comparison');
}

function asBool(value: unknown): boolean {
  if (typeof value !== 'boolean') throw new CelError('expected a bool');
  return value;
}
function num(value: unknown): number {
  if (typeof value !== 'number') throw new CelError('expected a number');
  return value;
}
function str(value: unknown): string {
  if (typeof value !== 'string') throw new CelError('expected a string');
  return value;
}
function isMap(value: unknown): value is Record<string, unknown> {
  return (
    typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Timestamp)
  );
}
