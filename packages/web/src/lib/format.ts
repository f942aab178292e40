/** Small display helpers: addresses, times, counts. */

/** `0x1234…abcd`, with the full address for a title attribute or screen readers elsewhere. */
export function shortAddress(address: string): string {
  return address.length > 12 ? `${address.slice(0, 6)}…${address.slice(-4)}` : address
}

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' })
const dateTimeFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' })

export function formatTime(iso: string): string {
  const date = new Date(iso)
  return Date.now() - date.getTime() < 86_400_000 ? timeFormat.format(date) : dateTimeFormat.format(date)
}

export function formatDateTime(iso: string): string {
  return dateTimeFormat.format(new Date(iso))
}

/** A checksummed or lowercase 0x address. */
export function isAddress(value: string): boolean {
  return /^0x[0-9a-fA-F]{40}$/.test(value.trim())
}
