// The row stream reader's disk spool: a source's rows go to segment files in a directory of its
// own (made at its first row, removed with the source), written through a buffer so that a row
// costs one copy and no object of its own.
//
// The rows are personal data (Account, EventIp), so a spool is the user's alone (the directory
// 0700 as mkdtemp makes it, its files 0600 whatever the umask), goes when a signal stops the run
// (io/interrupt.ts), and names its process in an owner file: what a killed run (SIGKILL) left is
// removed by the next load (sweepSpools), and nothing a live load still uses.
import { createWriteStream, type WriteStream } from 'node:fs';
import { lstat, mkdtemp, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { write, finish } from '../io/write.js';
import { removeOnSignal } from '../io/interrupt.js';
import { ownerState, parseOwner, thisProcess } from '../io/owner.js';

const WRITE_BUFFER = 256 << 10;

/** Spool directories are `<tmp>/edx-csvload-XXXXXX` (mkdtemp's six characters). */
const SPOOL_PREFIX = 'edx-csvload-';
const SPOOL_NAME = /^edx-csvload-[A-Za-z0-9]{6}$/;
/** The file in a spool directory naming the process that made it (io/owner.ts). */
export const OWNER_FILE = 'owner.json';
const OWNER_TOOL = 'edx-csvload';
/** Files of the spool: read and written by their user only. */
const PRIVATE_FILE = 0o600;

/** A directory of segment files, made when the first one is opened. */
export class SpoolDir {
  private dir?: string;
  private making?: Promise<string>;
  private forget?: () => void;

  constructor(private readonly parent = tmpdir()) {}

  /** Where the files are (undefined until the first one, and after remove()). */
  get path(): string | undefined {
    return this.dir;
  }

  async open(name: string): Promise<SegmentFile> {
    const dir = (this.dir ??= await (this.making ??= this.make()));
    return new SegmentFile(join(dir, name));
  }

  /** The directory, removed at a signal from the start, with its owner file (written whole, then renamed). */
  private async make(): Promise<string> {
    const dir = await mkdtemp(join(this.parent, SPOOL_PREFIX));
    this.forget = removeOnSignal(dir);
    const tmp = join(dir, `.${OWNER_FILE}.tmp`);
    await writeFile(tmp, JSON.stringify(thisProcess(OWNER_TOOL)) + '\n', { mode: PRIVATE_FILE, flag: 'wx' });
    await rename(tmp, join(dir, OWNER_FILE));
    return dir;
  }

  async remove(): Promise<void> {
    const dir = this.dir ?? (await this.making?.catch(() => undefined));
    this.dir = undefined;
    this.making = undefined;
    if (dir) await rm(dir, { recursive: true, force: true });
    this.forget?.();
    this.forget = undefined;
  }
}

export interface SweepResult {
  /** Spool directories of killed loads that were removed, and the bytes they held. */
  removed: string[];
  bytes: number;
  /** Directories named like a spool without an owner file (an older edx-csvload's, or one being made): left alone. */
  unowned: string[];
}

/** Bytes of the files in a directory tree (no symbolic link followed). */
async function treeBytes(dir: string): Promise<number> {
  let n = 0;
  for (const e of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    const p = join(dir, e.name);
    if (e.isDirectory()) n += await treeBytes(p);
    else if (e.isFile()) n += (await lstat(p).catch(() => undefined))?.size ?? 0;
  }
  return n;
}

/**
 * Remove the spool directories in `parent` that killed loads left: only directories named as ours,
 * of this user, whose owner file names a process of this machine that no longer runs (io/owner.ts).
 * Another user's, a live load's, another machine's and an unowned one are left alone.
 */
export async function sweepSpools(parent = tmpdir()): Promise<SweepResult> {
  const out: SweepResult = { removed: [], bytes: 0, unowned: [] };
  const uid = process.getuid?.();
  for (const name of await readdir(parent).catch(() => [] as string[])) {
    if (!SPOOL_NAME.test(name)) continue;
    const dir = join(parent, name);
    const st = await lstat(dir).catch(() => undefined);
    if (!st?.isDirectory() || (uid !== undefined && st.uid !== uid)) continue;
    const ownerPath = join(dir, OWNER_FILE);
    const ost = await lstat(ownerPath).catch(() => undefined);
    if (!ost) {
      out.unowned.push(dir);
      continue;
    }
    if (!ost.isFile() || (uid !== undefined && ost.uid !== uid)) continue;
    const owner = parseOwner(await readFile(ownerPath, 'utf8').catch(() => ''), OWNER_TOOL);
    if (!owner || ownerState(owner) !== 'gone') continue;
    const bytes = await treeBytes(dir);
    await rm(dir, { recursive: true, force: true });
    out.removed.push(dir);
    out.bytes += bytes;
  }
  return out;
}

/** One segment file being written: rows appended, then closed (or abandoned). */
export class SegmentFile {
  rows = 0;
  bytes = 0;
  private readonly stream: WriteStream;
  /** Rows not yet written: copied here, written when full. */
  private buffer = Buffer.allocUnsafe(WRITE_BUFFER);
  private used = 0;
  private error?: Error;

  constructor(readonly path: string) {
    // 'wx': a new file of ours, never one that was there (the directory is ours alone anyway).
    this.stream = createWriteStream(path, { flags: 'wx', mode: PRIVATE_FILE });
    this.stream.on('error', (e) => (this.error ??= e));
  }

  /** Append the row buf[start, end) (its '\n' included); waits only when the buffer is full. */
  append(buf: Buffer, start: number, end: number): Promise<void> | void {
    const length = end - start;
    this.bytes += length;
    this.rows++;
    if (this.used + length <= this.buffer.length) {
      this.used += buf.copy(this.buffer, this.used, start, end);
      return;
    }
    return this.appendAfterFlush(buf.subarray(start, end));
  }

  private async appendAfterFlush(row: Buffer): Promise<void> {
    await this.flush();
    if (row.length > this.buffer.length) await write(this.stream, Buffer.from(row));
    else this.used += row.copy(this.buffer, this.used);
  }

  private flush(): Promise<void> | void {
    if (this.error) throw this.error;
    if (!this.used) return;
    const chunk = this.buffer.subarray(0, this.used);
    this.buffer = Buffer.allocUnsafe(WRITE_BUFFER); // the written one belongs to the file stream now
    this.used = 0;
    return write(this.stream, chunk);
  }

  /** Write what is buffered and close the file. */
  async close(): Promise<void> {
    await this.flush();
    await finish(this.stream);
    if (this.error) throw this.error;
  }

  /** Not wanted any more: end it without waiting (it goes with its directory). */
  abandon(): void {
    this.stream.end();
  }

  /** Stop at once (the reader is going away). */
  destroy(): void {
    this.stream.destroy();
  }
}
