/**
 * Argument parsers for commander. A malformed flag is a usage error (`InvalidArgumentError`, exit
 * 2); a malformed wallet address is bad input to the API (`invalid_request`), like the SDK's own
 * checks, so scripts see the same code whichever layer caught it.
 */
import { addressInputSchema, idSchema } from '@dmtp/protocol'
import { InvalidArgumentError } from 'commander'
import { CliError } from './errors.js'

/**
 * A wallet address as typed (any case; a mixed-case one must have a valid EIP-55 checksum).
 * @returns the EIP-55 checksummed address.
 * @throws {CliError} `invalid_request` when it is not an address.
 * @example
 * parseAddress('0xd8da6bf26964af9d7eed9e03e53415d37aa96045') // '0xd8dA6BF26964aF9D7eEd9e03E53415D37aA96045'
 */
export function parseAddress(value: string): string {
  const parsed = addressInputSchema.safeParse(value)
  if (parsed.success) return parsed.data
  throw new CliError({
    code: 'invalid_request',
    message: `"${value}" is not a wallet address: ${parsed.error.issues[0]?.message ?? 'invalid'}.`,
  })
}

/**
 * For an option given once per address (`--member A --member B`): collects them, checksummed.
 * @throws {CliError} `invalid_request` when one is not an address.
 * @example
 * command.option('--member <address>', 'who (repeat for several)', collectAddress)
 */
export function collectAddress(value: string, previous: string[] = []): string[] {
  return [...previous, parseAddress(value)]
}

/**
 * @throws {InvalidArgumentError} unless an integer from 0 to 65535 (0 picks a free port).
 * @example
 * parsePort('8787') // 8787
 */
export function parsePort(value: string): number {
  const port = Number(value)
  if (/^\d+$/.test(value) && port <= 65_535) return port
  throw new InvalidArgumentError('Expected a port number from 0 to 65535.')
}

/** Seconds, possibly fractional, greater than zero (`--sync-interval 0.5`). */
export function parsePositiveSeconds(value: string): number {
  const seconds = Number(value)
  if (!/^\d+(\.\d+)?$/.test(value) || !(seconds > 0)) {
    throw new InvalidArgumentError(`expected a positive number of seconds, got ${JSON.stringify(value)}`)
  }
  return seconds
}

/**
 * @throws {InvalidArgumentError} unless an integer of at least 1.
 * @example
 * parsePositiveInt('20') // 20
 */
export function parsePositiveInt(value: string): number {
  const number = Number(value)
  if (/^\d+$/.test(value) && number >= 1 && Number.isSafeInteger(number)) return number
  throw new InvalidArgumentError('Expected a whole number of at least 1.')
}

/**
 * @throws {InvalidArgumentError} unless an http:// or https:// URL.
 * @example
 * parseServerUrl('https://dmtp.example') // 'https://dmtp.example'
 */
export function parseServerUrl(value: string): string {
  if (URL.canParse(value) && /^https?:$/.test(new URL(value).protocol)) return value
  throw new InvalidArgumentError('Expected an http:// or https:// URL.')
}

/**
 * A room id (`--room`) or message id (`--id`): 16 bytes, base64url (22 characters).
 * @throws {CliError} `invalid_request` when it is not one, like a malformed address.
 * @example
 * parseId('AGWwcmrhX9BHfF0JejIEqg') // 'AGWwcmrhX9BHfF0JejIEqg'
 */
export function parseId(value: string): string {
  if (idSchema.safeParse(value).success) return value
  throw new CliError({ code: 'invalid_request', message: `"${value}" is not a DMTP id (22 base64url characters).` })
}

const DURATION_UNITS = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const

/**
 * A duration such as `30s`, `10m`, `2h` or `7d` (`--for`).
 * @returns milliseconds.
 * @throws {InvalidArgumentError} unless a whole number above 0 followed by s, m, h or d.
 * @example
 * parseDuration('10m') // 600000
 */
export function parseDuration(value: string): number {
  const match = /^(\d+)([smhd])$/.exec(value)
  const ms = match ? Number(match[1]) * DURATION_UNITS[match[2] as keyof typeof DURATION_UNITS] : Number.NaN
  if (ms > 0 && Number.isSafeInteger(ms)) return ms
  throw new InvalidArgumentError('Expected a duration such as 30s, 10m, 2h or 7d.')
}
