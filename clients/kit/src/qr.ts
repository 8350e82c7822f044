import qrcode from 'qrcode-terminal';

/** A QR code of `text` drawn with block characters, for a terminal (half-height rows). */
export function qrText(text: string): Promise<string> {
  return new Promise((resolve) => qrcode.generate(text, { small: true }, resolve));
}
