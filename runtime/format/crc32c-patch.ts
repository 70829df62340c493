import { crc32c } from '@node-rs/crc32';

/**
 * The CRC-32C of bytes whose first few changed, from their old CRC, without reading the rest.
 *
 * A CRC is linear: for two inputs of equal length, crc(a) XOR crc(b) is the CRC, with no initial
 * value and no final XOR, of a XOR b. When a and b differ only in their first k bytes, that is the
 * pure CRC of those k differing bytes carried through the n - k zero bytes that follow, which is a
 * multiplication by x^(8(n-k)) modulo the polynomial: O(log n), instead of a pass over all n bytes.
 * (The method of zlib's crc32_combine, for the Castagnoli polynomial.)
 */

/** CRC-32C's polynomial, bit-reflected. */
const POLY = 0x82f63b78;

/** a·b modulo the polynomial, both in the reflected representation (x^0 is the top bit). */
function multiplyModP(a: number, b: number): number {
  let product = 0;
  for (let m = 0x80000000; m !== 0; m >>>= 1) {
    if (a & m) product ^= b;
    b = b & 1 ? (b >>> 1) ^ POLY : b >>> 1;
  }
  return product >>> 0;
}

/** X2N[k] = x^(2^k) modulo the polynomial. */
const X2N: readonly number[] = (() => {
  const table = [1 << 30]; // x^1
  for (let k = 1; k < 32; k++) table.push(multiplyModP(table[k - 1] as number, table[k - 1] as number));
  return table;
})();

/** x^(8·bytes) modulo the polynomial: the effect of `bytes` zero bytes on a pure CRC. */
function zeroBytesOperator(bytes: number): number {
  let p = 0x80000000; // x^0
  let k = 3; // 8 = 2^3
  for (let n = bytes; n > 0; n = Math.floor(n / 2), k++) {
    if (n % 2 === 1) p = multiplyModP(X2N[k % 32] as number, p);
  }
  return p;
}

/**
 * The CRC-32C of `before ++ rest` is `crc`; returns that of `after ++ rest`, where `rest` is
 * `restLength` bytes left as they were. `before` and `after` have the same length.
 */
export function crc32cPatched(
  crc: number,
  before: Uint8Array,
  after: Uint8Array,
  restLength: number,
): number {
  if (before.length !== after.length) throw new RangeError('the changed bytes must keep their length');
  const delta = Buffer.allocUnsafe(before.length);
  for (let i = 0; i < delta.length; i++) delta[i] = (before[i] as number) ^ (after[i] as number);
  // The library's CRC starts from (and ends with) an inverted register; inverting its seed and its
  // result gives the pure CRC of the differing bytes.
  const pure = ~crc32c(delta, 0xffffffff) >>> 0;
  return (crc ^ multiplyModP(zeroBytesOperator(restLength), pure)) >>> 0;
}
