/**
 * `dmtp group members`: every member of a room (or its invitations, requests, bans), by seniority,
 * each checked against the membership log replayed here.
 */
import type { VerifiedMember } from '@dmtp/sdk'
import { Command, Option } from 'commander'
import { connect } from '../connect.js'
import { globalOptions } from '../global-options.js'
import { printJson, printLine } from '../output.js'
import { parseId } from '../parsers.js'
import { requireWallet } from '../wallet.js'

type MembersOptions = { room: string; status: 'member' | 'invited' | 'requested' | 'banned' }

/** The server's largest page. */
const MEMBERS_PAGE = 500

/**
 * @example
 * import { groupMembersCommand } from './commands/group-members.js'
 * group.addCommand(groupMembersCommand())
 */
export function groupMembersCommand(): Command {
  return new Command('members')
    .description("List a room's members (or its invitations, requests to join, bans)")
    .requiredOption('--room <id>', 'the room', parseId)
    .addOption(
      new Option('--status <status>', 'who to list').choices(['member', 'invited', 'requested', 'banned']).default('member'),
    )
    .addHelpText(
      'after',
      `
Examples:
  $ dmtp group members --room AGWwcmrhX9BHfF0JejIEqg   0xA11ce…  owner
  $ dmtp group members --room AGWw… --status requested   who asked to join (approve with \`dmtp group approve\`)
  $ dmtp group members --room AGWw… --json              [{"address","role","mutedUntil","banned","bannedUntil","status","verified"}]

Every member, however many (page by page). "verified" is false for a member or role the server
shows without the signed events that make it so.`,
    )
    .action(async (options: MembersOptions, command: Command) => {
      const globals = globalOptions(command)
      const client = connect(globals, requireWallet(globals))
      const members: VerifiedMember[] = []
      let after: string | undefined
      do {
        const page = await client.rooms.members(options.room, { status: options.status, after, limit: MEMBERS_PAGE })
        members.push(...page.members)
        after = page.next ?? undefined
      } while (after !== undefined)
      if (globals.json) {
        return printJson(
          members.map(({ address, role, mutedUntil, banned, bannedUntil, status, verified }) => ({
            address,
            role,
            mutedUntil,
            banned,
            bannedUntil,
            status,
            verified,
          })),
        )
      }
      if (members.length === 0) return printLine(`No one (${options.status}).`)
      for (const member of members) {
        const notes = [
          member.mutedUntil ? `muted until ${member.mutedUntil}` : undefined,
          member.banned ? `banned${member.bannedUntil ? ` until ${member.bannedUntil}` : ''}` : undefined,
          member.verified ? undefined : 'NOT proven by the log',
        ].filter(Boolean)
        const role = options.status === 'member' ? `  ${member.role}` : `  ${member.status === 'none' ? 'banned' : member.status}`
        printLine(`${member.address}${role}${notes.length ? `  (${notes.join('; ')})` : ''}`)
      }
    })
}
