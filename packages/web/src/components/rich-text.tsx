/** A message's text with its @mentions shortened and marked (the reader's own more strongly). */
import { Fragment, type ReactNode } from 'react'
import { MENTION, sameAddress, shortAddress } from '../lib/format.js'

export function RichText({ text, me }: { text: string; me: string }) {
  if (!text.includes('@0x')) return text
  const parts: ReactNode[] = []
  let at = 0
  for (const match of text.matchAll(MENTION)) {
    const address = match[1] as string
    const index = match.index ?? 0
    parts.push(text.slice(at, index))
    const mine = sameAddress(address, me)
    parts.push(
      <span key={index} className={mine ? 'mention self' : 'mention'} title={address}>
        @{mine ? 'you' : shortAddress(address)}
      </span>,
    )
    at = index + match[0].length
  }
  parts.push(text.slice(at))
  return <Fragment>{parts}</Fragment>
}
