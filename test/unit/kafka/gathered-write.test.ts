import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createConnection, createServer } from 'node:net';
import { describe, it } from 'node:test';
import {
  type CorkableSocket,
  JOIN_BELOW_BYTES,
  writeGathered,
} from '../../../runtime/kafka/gathered-write.ts';

/** A socket that records what it is asked to do. */
function recording(full = false): CorkableSocket & { calls: (string | Uint8Array)[] } {
  const calls: (string | Uint8Array)[] = [];
  return {
    calls,
    cork: () => calls.push('cork'),
    uncork: () => calls.push('uncork'),
    write: (chunk) => {
      calls.push(chunk);
      return !full;
    },
  };
}

describe('writeGathered', () => {
  it('joins small neighbours and writes large chunks as they are, inside one cork', () => {
    const header = [Buffer.from([0, 1]), Buffer.from([2, 3, 4]), Buffer.from('client')];
    const batch = randomBytes(JOIN_BELOW_BYTES * 4);
    const trailer = [Buffer.from([9])];
    const socket = recording();
    assert.equal(writeGathered(socket, [...header, batch, ...trailer]), true);
    assert.equal(socket.calls.length, 5);
    assert.equal(socket.calls[0], 'cork');
    assert.deepEqual(socket.calls[1], Buffer.concat(header));
    assert.equal(socket.calls[2], batch, 'the large chunk itself, not a copy');
    assert.deepEqual(socket.calls[3], Buffer.from([9]));
    assert.equal(socket.calls[4], 'uncork');
  });

  it('writes a lone chunk as it is, and says when the socket is full', () => {
    const one = Buffer.from('one');
    const socket = recording(true);
    assert.equal(writeGathered(socket, [one]), false);
    assert.deepEqual(socket.calls, [one]);
    assert.equal(writeGathered(recording(true), [one, randomBytes(JOIN_BELOW_BYTES)]), false);
  });

  it('delivers every byte in order over a real socket', async () => {
    const chunks = Array.from({ length: 200 }, (_, i) =>
      randomBytes(i % 3 === 0 ? 20_000 + i : 1 + (i % 50)),
    );
    const expected = Buffer.concat(chunks);
    const received: Buffer[] = [];
    let ended: () => void = () => {};
    const allReceived = new Promise<void>((resolve) => {
      ended = resolve;
    });
    const server = createServer((socket) => {
      socket.on('data', (d: Buffer) => received.push(d));
      socket.on('end', () => ended());
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    const client = createConnection({ port, host: '127.0.0.1' });
    await new Promise<void>((resolve) => client.once('connect', resolve));
    for (let i = 0; i < chunks.length; i += 7) writeGathered(client, chunks.slice(i, i + 7));
    client.end();
    await allReceived;
    server.close();
    assert.deepEqual(Buffer.concat(received), expected);
  });
});
