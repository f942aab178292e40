/**
 * Permissions and roles of rooms (protocol.md §6.3). A role is a set of permissions; four roles
 * are built in, a room may define more. Every permission check of the server and every replay of
 * a membership log by a client uses these definitions, so both agree on who may do what.
 */

export const PERMISSIONS = [
  'send',
  'send_links',
  'react',
  'invite',
  'accept_join_request',
  'kick',
  'ban',
  'unban',
  'mute',
  'unmute',
  'recall_others',
  'pin',
  'set_info',
  'set_role',
  'delete_room',
  'e2ee_on',
  'e2ee_off',
] as const

export type Permission = (typeof PERMISSIONS)[number]

export const BUILT_IN_ROLES = ['owner', 'admin', 'sub-admin', 'member'] as const
export type BuiltInRole = (typeof BUILT_IN_ROLES)[number]

const ALL: readonly Permission[] = PERMISSIONS

/** What each built-in role may do. An Admin holds everything but deleting the room and turning E2EE off. */
export const BUILT_IN_PERMISSIONS: Record<BuiltInRole, readonly Permission[]> = {
  owner: ALL,
  admin: ALL.filter((permission) => permission !== 'delete_room' && permission !== 'e2ee_off'),
  'sub-admin': ['send', 'send_links', 'react', 'invite', 'accept_join_request', 'mute', 'unmute', 'pin'],
  member: ['send', 'react', 'invite'],
}

/** The two wallets of a 1:1 room may do these, and nothing else (no moderation in a pair). */
export const P2P_PERMISSIONS: readonly Permission[] = ['send', 'send_links', 'react', 'pin']

/**
 * Rank decides who may act on whom: a moderator acts only on members of a lower rank (an Owner on
 * anyone). Custom roles rank between Member and Sub Admin.
 */
const RANKS: Record<BuiltInRole, number> = { owner: 40, admin: 30, 'sub-admin': 20, member: 10 }
export const CUSTOM_ROLE_RANK = 15

/** Longest custom role name, and its form (lower case, digits, `-` and `_`; not a built-in name). */
export const MAX_ROLE_NAME_LENGTH = 32
export const ROLE_NAME = /^[a-z0-9][a-z0-9_-]{0,31}$/

export function isBuiltInRole(role: string): role is BuiltInRole {
  return (BUILT_IN_ROLES as readonly string[]).includes(role)
}

export function isPermission(value: string): value is Permission {
  return (PERMISSIONS as readonly string[]).includes(value)
}

export function roleRank(role: string): number {
  return isBuiltInRole(role) ? RANKS[role] : CUSTOM_ROLE_RANK
}

/** What a room's settings change about its roles. */
export type RoleContext = {
  type: 'p2p' | 'public' | 'limited' | 'private'
  /** Announcement-only: the Member role does not post (`send`, `send_links`). */
  announce: boolean
  /** The room's custom roles and their permissions. */
  customRoles: Readonly<Record<string, readonly Permission[]>>
}

/**
 * The permissions a role holds in a room; undefined for a role the room does not define.
 * @example
 * import { rolePermissions } from '@dmtp/protocol'
 * rolePermissions({ type: 'public', announce: true, customRoles: {} }, 'member') // ['react', 'invite']
 */
export function rolePermissions(room: RoleContext, role: string): readonly Permission[] | undefined {
  if (room.type === 'p2p') return P2P_PERMISSIONS
  if (isBuiltInRole(role)) {
    const permissions = BUILT_IN_PERMISSIONS[role]
    return room.announce && role === 'member'
      ? permissions.filter((permission) => permission !== 'send' && permission !== 'send_links')
      : permissions
  }
  return Object.hasOwn(room.customRoles, role) ? room.customRoles[role] : undefined
}

export function hasPermission(room: RoleContext, role: string, permission: Permission): boolean {
  return rolePermissions(room, role)?.includes(permission) ?? false
}

/**
 * True when a member with `actorRole` may moderate one with `subjectRole`: an Owner may act on
 * anyone, everyone else only on lower ranks (so an Admin can never demote or remove an Owner).
 */
export function outranks(actorRole: string, subjectRole: string): boolean {
  return actorRole === 'owner' || roleRank(actorRole) > roleRank(subjectRole)
}

// A URL scheme, `www.`, or a dotted host with a common top-level domain: what a person means by a link.
const LINK =
  /\b(?:[a-z][a-z0-9+.-]*:\/\/|www\.)\S|\b[a-z0-9-]+(?:\.[a-z0-9-]+)*\.(?:com|org|net|io|xyz|app|dev|co|me|gg|eth|link|info|ly|to)\b/i

/**
 * True when a message text holds a link (what `send_links` governs).
 * @example
 * import { containsLink } from '@dmtp/protocol'
 * containsLink('see https://example.org') // true
 */
export function containsLink(text: string): boolean {
  return LINK.test(text)
}
