/**
 * A membership-log event as the line a timeline shows ("0xA11…9c4c made 0xB0b…12ab an Admin").
 * @internal
 */
import type { RoomEvent } from '@dmtp/protocol'

/** `0x1234…abcd`: enough to tell wallets apart at a glance. */
export function shortAddress(address: string): string {
  return `${address.slice(0, 6)}…${address.slice(-4)}`
}

const ROLE_NAMES: Record<string, string> = {
  owner: 'an Owner',
  admin: 'an Admin',
  'sub-admin': 'a Sub Admin',
  member: 'a Member',
}

export function systemLine(event: RoomEvent): string {
  const actor = shortAddress(event.actor)
  const whom = 'members' in event && event.members ? event.members.map(shortAddress).join(', ') : 'everyone'
  const until = 'until' in event && event.until ? ` until ${event.until}` : ''
  switch (event.type) {
    case 'create':
      return `${actor} created ${event.roomType === 'public' ? 'the public room' : 'the private group'} "${event.name}"`
    case 'join':
      return `${actor} joined`
    case 'request':
      return `${actor} asked to join`
    case 'leave':
      return `${actor} left`
    case 'delete':
      return `${actor} deleted the room`
    case 'invite':
      return `${actor} invited ${whom}`
    case 'approve':
      return `${actor} let ${whom} in`
    case 'reject':
      return `${actor} turned down ${whom}`
    case 'kick':
      return `${actor} removed ${whom}`
    case 'ban':
      return `${actor} banned ${whom}${until}${event.removeMessages ? ' and removed their messages' : ''}`
    case 'unban':
      return `${actor} lifted the ban on ${whom}`
    case 'mute':
      return `${actor} muted ${whom}${until}`
    case 'unmute':
      return `${actor} unmuted ${whom}`
    case 'set_role':
      return `${actor} made ${whom} ${ROLE_NAMES[event.role] ?? `"${event.role}"`}`
    case 'define_role':
      return `${actor} defined the role "${event.role}" (${event.permissions.join(', ') || 'no permissions'})`
    case 'delete_role':
      return `${actor} removed the role "${event.role}"`
    case 'update': {
      const changes = [
        event.name !== undefined ? `renamed the room "${event.name}"` : undefined,
        event.description !== undefined ? 'changed the description' : undefined,
        event.avatar !== undefined ? 'changed the picture' : undefined,
        event.announce !== undefined ? (event.announce ? 'made the room announcement-only' : 'let every member post') : undefined,
      ].filter(Boolean)
      return `${actor} ${changes.join(' and ')}`
    }
    case 'e2ee_on':
      return `${actor} turned on end-to-end encryption${event.plain ? ' (members may still send plaintext, marked so)' : ''}`
    case 'e2ee_off':
      return `${actor} turned off end-to-end encryption: new messages can be read by the server`
  }
}
