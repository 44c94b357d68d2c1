/**
 * A minimal ustar writer for build contexts (regular files and symbolic
 * links; directories are implied by the paths, which Docker accepts). A path
 * too long for the ustar name field gets a PAX `path` record first.
 */
export interface TarEntry {
  path: string;
  /** File mode bits (0o644, 0o755); links use 0o777. */
  mode: number;
  data: Buffer;
  /** Set for a symbolic link (then `data` is ignored). */
  linkTarget?: string;
}

export function writeTar(entries: TarEntry[]): Buffer {
  const chunks: Buffer[] = [];
  for (const e of entries) {
    const name = Buffer.from(e.path, 'utf8');
    if (name.length > 100) {
      const rec = paxRecord('path', e.path);
      chunks.push(header('././@PaxHeader', 0o644, rec.length, 'x', ''), pad(rec));
    }
    const size = e.linkTarget === undefined ? e.data.length : 0;
    chunks.push(header(name.length > 100 ? e.path.slice(0, 99) : e.path, e.mode, size, e.linkTarget === undefined ? '0' : '2', e.linkTarget ?? ''));
    if (size > 0) chunks.push(pad(e.data));
  }
  chunks.push(Buffer.alloc(1024));
  return Buffer.concat(chunks);
}

function paxRecord(key: string, value: string): Buffer {
  const body = ` ${key}=${value}\n`;
  let len = Buffer.byteLength(body) + 1;
  while (String(len).length + Buffer.byteLength(body) !== len) len = String(len).length + Buffer.byteLength(body);
  return Buffer.from(`${len}${body}`, 'utf8');
}

function pad(b: Buffer): Buffer {
  const rest = b.length % 512;
  return rest === 0 ? b : Buffer.concat([b, Buffer.alloc(512 - rest)]);
}

function header(name: string, mode: number, size: number, type: string, link: string): Buffer {
  const h = Buffer.alloc(512);
  h.write(name, 0, 100, 'utf8');
  h.write(octal(mode, 8), 100);
  h.write(octal(0, 8), 108);
  h.write(octal(0, 8), 116);
  h.write(octal(size, 12), 124);
  h.write(octal(0, 12), 136);
  h.write('        ', 148);
  h.write(type, 156);
  h.write(link, 157, 100, 'utf8');
  h.write('ustar\0', 257);
  h.write('00', 263);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
  return h;
}

function octal(n: number, width: number): string {
  return `${n.toString(8).padStart(width - 1, '0')}\0`;
}
