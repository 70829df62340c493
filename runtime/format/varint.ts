/**
 * Unsigned LEB128 varints (as in protobuf and Kafka's record format). Lengths and deltas use the
 * Number fast path; 64-bit values fall back to bigint only when they exceed 2^53.
 */

const TWO_POW_53 = 2n ** 53n;

export function uvarintSize(value: number): number {
  if (value < 0x80) return 1;
  if (value < 0x4000) return 2;
  if (value < 0x200000) return 3;
  if (value < 0x10000000) return 4;
  let size = 1;
  while (value >= 0x80) {
    value = Math.floor(value / 128);
    size++;
  }
  return size;
}

/** Writes `value` (0 <= value < 2^53) at `pos`; returns the position after it. */
export function writeUVarint(buf: Uint8Array, pos: number, value: number): number {
  if (value < 0x80) {
    buf[pos] = value;
    return pos + 1;
  }
  if (value < 0x80000000) {
    while (value >= 0x80) {
      buf[pos++] = (value & 0x7f) | 0x80;
      value >>>= 7;
    }
    buf[pos++] = value;
    return pos;
  }
  while (value >= 0x80) {
    buf[pos++] = (value % 128) | 0x80;
    value = Math.floor(value / 128);
  }
  buf[pos++] = value;
  return pos;
}

/** Zigzag-encodes a signed 64-bit value: 0, -1, 1, -2 ... map to 0, 1, 2, 3 ... */
export function zigzag(value: bigint): bigint {
  return value >= 0n ? value << 1n : (-value << 1n) - 1n;
}

export function unzigzag(value: bigint): bigint {
  return value & 1n ? -((value + 1n) >> 1n) : value >> 1n;
}

export function uvarlongSize(value: bigint): number {
  if (value < TWO_POW_53) return uvarintSize(Number(value));
  let size = 1;
  while (value >= 0x80n) {
    value >>= 7n;
    size++;
  }
  return size;
}

export function writeUVarlong(buf: Uint8Array, pos: number, value: bigint): number {
  if (value < TWO_POW_53) return writeUVarint(buf, pos, Number(value));
  while (value >= 0x80n) {
    buf[pos++] = Number(value & 0x7fn) | 0x80;
    value >>= 7n;
  }
  buf[pos++] = Number(value);
  return pos;
}

/**
 * A bounds-checked cursor over a decoded block. Every read throws RangeError past `end`, which
 * the segment decoder turns into a CorruptObjectError naming the object.
 */
export class ByteCursor {
  pos: number;
  constructor(
    readonly buf: Uint8Array,
    start: number,
    readonly end: number,
  ) {
    this.pos = start;
  }

  u8(): number {
    if (this.pos >= this.end) throw new RangeError('unexpected end of data');
    return this.buf[this.pos++] as number;
  }

  /** An unsigned varint below 2^53. */
  uvarint(): number {
    const buf = this.buf;
    let pos = this.pos;
    let result = 0;
    let scale = 1;
    for (let i = 0; i < 8; i++) {
      if (pos >= this.end) throw new RangeError('unexpected end of data in a varint');
      const b = buf[pos++] as number;
      result += (b & 0x7f) * scale;
      if (b < 0x80) {
        this.pos = pos;
        if (result > Number.MAX_SAFE_INTEGER) throw new RangeError('varint out of range');
        return result;
      }
      scale *= 128;
    }
    throw new RangeError('varint longer than 8 bytes');
  }

  /** An unsigned varint up to 64 bits. */
  uvarlong(): bigint {
    const start = this.pos;
    const buf = this.buf;
    // Fast path: up to 7 bytes (49 bits) fits a Number exactly.
    let result = 0;
    let scale = 1;
    for (let i = 0; i < 7; i++) {
      if (this.pos >= this.end) throw new RangeError('unexpected end of data in a varint');
      const b = buf[this.pos++] as number;
      result += (b & 0x7f) * scale;
      if (b < 0x80) return BigInt(result);
      scale *= 128;
    }
    this.pos = start;
    let big = 0n;
    let shift = 0n;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new RangeError('unexpected end of data in a varint');
      const b = buf[this.pos++] as number;
      big |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) {
        if (big >= 1n << 64n) throw new RangeError('varint out of range');
        return big;
      }
      shift += 7n;
    }
    throw new RangeError('varint longer than 10 bytes');
  }

  /** An unsigned varint up to 64 bits: a Number when below 2^49 (the common case), else a bigint. */
  zigzagVarlong(): number | bigint {
    const buf = this.buf;
    let pos = this.pos;
    let result = 0;
    let scale = 1;
    for (let i = 0; i < 7; i++) {
      if (pos >= this.end) throw new RangeError('unexpected end of data in a varint');
      const b = buf[pos++] as number;
      result += (b & 0x7f) * scale;
      if (b < 0x80) {
        this.pos = pos;
        return result;
      }
      scale *= 128;
    }
    return this.uvarlong();
  }

  /** `length` bytes as a view (no copy). */
  bytes(length: number): Uint8Array {
    const start = this.pos;
    const next = start + length;
    if (next > this.end) throw new RangeError('a length runs past the end of the data');
    this.pos = next;
    return this.buf.subarray(start, next);
  }
}
