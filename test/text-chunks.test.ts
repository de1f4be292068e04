// TextChunks: text encoded as it is appended, handed out in order, the rest of a chunk used on.
import t from 'tap';
import { PassThrough } from 'node:stream';
import { TextChunks } from '../src/io/text-chunks.js';

const joined = (parts: Buffer[]) => Buffer.concat(parts).toString('utf8');

t.test('bytes come out in order, UTF-8, across chunk boundaries', async (t) => {
  const c = new TextChunks();
  c.append('héllo ');
  c.appendAscii([0x2c, 0x0a]);
  const big = '€'.repeat(200_000); // 600,000 bytes: more than one chunk
  c.append(big);
  c.append(' 😀');
  t.equal(c.bytes, Buffer.byteLength('héllo ,\n' + big + ' 😀'));
  const first = c.take();
  t.equal(joined(first), 'héllo ,\n' + big + ' 😀');
  t.equal(c.bytes, 0, 'take starts over');
  c.append('next');
  const second = c.take();
  t.equal(joined(second), 'next', 'the rest of the chunk is used on');
  t.equal(joined(first), 'héllo ,\n' + big + ' 😀', 'and what was handed out before is untouched');
  t.same(c.take(), [], 'nothing appended, nothing to take');
});

t.test('discard drops only what was not taken', async (t) => {
  const c = new TextChunks();
  c.append('kept');
  const kept = c.take();
  c.append('dropped');
  c.discard();
  c.append('after');
  t.equal(joined(c.take()), 'after');
  t.equal(joined(kept), 'kept');
});

t.test('writeTo writes everything to a stream, in order', async (t) => {
  const c = new TextChunks();
  const out = new PassThrough();
  const got: Buffer[] = [];
  out.on('data', (b: Buffer) => got.push(b));
  c.append('a'.repeat(300_000));
  c.append('b');
  await c.writeTo(out);
  c.append('c');
  await c.writeTo(out);
  await c.writeTo(out); // nothing pending: nothing written
  out.end();
  await new Promise((r) => out.on('end', r));
  t.equal(joined(got), 'a'.repeat(300_000) + 'bc');
});

t.test('a checksum covers exactly the bytes appended between start and end, across chunks and takes', async (t) => {
  const { crc32 } = await import('node:zlib');
  const c = new TextChunks();
  c.append('before ');
  c.startChecksum();
  const parts = ['héllo,', '€'.repeat(100_000), ' 😀\n', 'x'.repeat(400_000)];
  c.append(parts[0]);
  const taken = c.take(); // a take in the middle does not disturb the sum
  c.append(parts[1]);
  c.appendAscii([0x2c, 0x0a]);
  c.append(parts[2]);
  c.append(parts[3]); // a new chunk
  const sum = c.endChecksum();
  c.append(' after');
  const all = Buffer.concat([...taken, ...c.take()]);
  t.equal(all.toString('utf8'), 'before ' + parts[0] + parts[1] + ',\n' + parts[2] + parts[3] + ' after');
  t.equal(sum, crc32(Buffer.from(parts[0] + parts[1] + ',\n' + parts[2] + parts[3])), 'the CRC-32 of the bytes between');
  c.startChecksum();
  t.equal(c.endChecksum(), 0, 'nothing appended: the CRC-32 of no bytes');
});
