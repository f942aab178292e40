/** The members of a group whose address starts with what follows the `@` being typed. */
import { useMembers } from '@dmtp/react'
import { sameAddress, shortAddress } from '../lib/format.js'

type Props = { room: string; prefix: string; me: string; onPick: (address: string) => void }

export function MentionSuggestions({ room, prefix, me, onPick }: Props) {
  const { members } = useMembers(room)
  const wanted = prefix.toLowerCase()
  const matches = members
    .filter((member) => !sameAddress(member.address, me) && member.address.toLowerCase().startsWith(wanted || '0x'))
    .slice(0, 5)
  if (matches.length === 0) return null
  return (
    <ul className="mentions" aria-label="Mention a member">
      {matches.map((member) => (
        <li key={member.address}>
          <button type="button" className="small" onClick={() => onPick(member.address)} title={member.address}>
            Mention {shortAddress(member.address)}
          </button>
        </li>
      ))}
    </ul>
  )
}
