import { crc32, deflateSync } from 'node:zlib';

/**
 * The printer's icon (printer-icons, PWG 5100.13), which print dialogs show beside its name: a
 * white page on Roger blue, 128 × 128, drawn here as a PNG (RFC 2083) so that no image file has
 * to ship with the program.
 */
export const ICON_PATH = '/icon.png';
const SIZE = 128;

export const ICON_PNG: Buffer = drawIcon();

function drawIcon(): Buffer {
  const blue = [0x0f, 0x6c, 0xbd];
  const white = [0xff, 0xff, 0xff];
  const grey = [0x9e, 0xa7, 0xb3];
  const rows: Buffer[] = [];
  for (let y = 0; y < SIZE; y++) {
    const row = Buffer.alloc(1 + SIZE * 3); // filter byte 0: none
    for (let x = 0; x < SIZE; x++) {
      const onPage = x >= 36 && x < 92 && y >= 20 && y < 108;
      const onLine = onPage && x >= 44 && x < 84 && [36, 48, 60, 72, 84].some((top) => y >= top && y < top + 4);
      row.set(onLine ? grey : onPage ? white : blue, 1 + x * 3);
    }
    rows.push(row);
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(SIZE, 0);
  header.writeUInt32BE(SIZE, 4);
  header.set([8, 2, 0, 0, 0], 8); // 8 bits per channel, RGB, deflate, no filter method, not interlaced
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(Buffer.concat(rows))),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

function chunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const typed = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(typed));
  return Buffer.concat([length, typed, crc]);
}
