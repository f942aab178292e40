/**
 * One table of wrong-typed inputs that every public function taking bytes (or a record) must
 * reject. `kind: 'type'` entries are not Uint8Arrays at all (TypeError); `kind: 'length'` entries
 * are Uint8Arrays of a length no 32-byte key has (RangeError).
 */
export type WrongType = { title: string; value: unknown; kind: 'type' | 'length' }

export const wrongTypes: readonly WrongType[] = [
  { title: 'undefined', value: undefined, kind: 'type' },
  { title: 'null', value: null, kind: 'type' },
  { title: 'number', value: 42, kind: 'type' },
  { title: 'NaN', value: Number.NaN, kind: 'type' },
  { title: 'bigint', value: 42n, kind: 'type' },
  { title: 'boolean', value: true, kind: 'type' },
  { title: 'symbol', value: Symbol('key'), kind: 'type' },
  { title: 'function', value: () => new Uint8Array(32), kind: 'type' },
  { title: 'empty string', value: '', kind: 'type' },
  { title: 'string of 32 characters', value: 'k'.repeat(32), kind: 'type' },
  { title: 'hex string of 32 bytes', value: '00'.repeat(32), kind: 'type' },
  { title: 'plain object', value: {}, kind: 'type' },
  { title: 'array-like object of length 32', value: { length: 32 }, kind: 'type' },
  { title: 'array of 32 numbers', value: new Array(32).fill(7), kind: 'type' },
  { title: 'ArrayBuffer of 32 bytes', value: new ArrayBuffer(32), kind: 'type' },
  { title: 'DataView of 32 bytes', value: new DataView(new ArrayBuffer(32)), kind: 'type' },
  { title: 'Uint8ClampedArray of 32', value: new Uint8ClampedArray(32), kind: 'type' },
  { title: 'Uint16Array of 16 (32 bytes)', value: new Uint16Array(16), kind: 'type' },
  { title: 'Int8Array of 32', value: new Int8Array(32), kind: 'type' },
  { title: 'Date', value: new Date(0), kind: 'type' },
  { title: 'Uint8Array of 0 bytes', value: new Uint8Array(0), kind: 'length' },
  { title: 'Uint8Array of 31 bytes', value: new Uint8Array(31).fill(1), kind: 'length' },
  { title: 'Uint8Array of 33 bytes', value: new Uint8Array(33).fill(1), kind: 'length' },
  { title: 'Uint8Array of 64 bytes', value: new Uint8Array(64).fill(1), kind: 'length' },
]

/** Only the entries that are not byte arrays at all (for inputs of any length, like a message). */
export const wrongNonBytes = wrongTypes.filter((entry) => entry.kind === 'type')
