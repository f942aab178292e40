/** Small display helpers: addresses, roles, times. */
import { shortAddress as sdkShortAddress } from '@dmtp/sdk'

/** `0x1234…abcd` (the SDK's, as its system lines write it); anything shorter as it is. */
export function shortAddress(address: string): string {
  return address.length > 12 ? sdkShortAddress(address) : address
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

export const sameAddress = (a: string | null | undefined, b: string | null | undefined) =>
  !!a && !!b && a.toLowerCase() === b.toLowerCase()

const ROLE_LABELS: Record<string, string> = { owner: 'Owner', admin: 'Admin', 'sub-admin': 'Sub Admin', member: 'Member' }

export function roleLabel(role: string): string {
  return ROLE_LABELS[role] ?? role
}

/** `@0x…` followed by a full address: how a mention is written in a message. */
export const MENTION = /@(0x[0-9a-fA-F]{40})/g

/** The addresses a text mentions, each once. */
export function mentionsIn(text: string): string[] {
  return [...new Set([...text.matchAll(MENTION)].map((match) => match[1] as string))]
}
