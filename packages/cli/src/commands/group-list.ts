/** `dmtp group list`: the groups this wallet is in (or is invited to), most recent first, with unread counts. */
import { Command } from 'commander'
import { connect } from '../connect.js'
import { globalOptions } from '../global-options.js'
import { printJson, printLine, terminalSafe } from '../output.js'
import { roomTypeLabel } from '../rooms.js'
import { requireWallet } from '../wallet.js'

/**
 * @example
 * import { groupListCommand } from './commands/group-list.js'
 * group.addCommand(groupListCommand())
 */
export function groupListCommand(): Command {
  return new Command('list')
    .description('List the groups you are in, most recent first, with unread counts')
    .option('--invited', 'the groups you are invited to instead (join with `dmtp group join --room ID`)')
    .addHelpText(
      'after',
      `
Examples:
  $ dmtp group list                               AGWw…  "DMTP builders" (public room, …)  owner  3 unread
  $ dmtp group list --json                        [{"room","type","name","unread","role","members"}]
  $ dmtp group list --invited

1:1 conversations are not listed: see \`dmtp read\`.`,
    )
    .action(async (options: { invited?: boolean }, command: Command) => {
      const globals = globalOptions(command)
      const client = connect(globals, requireWallet(globals))
      const status = options.invited ? 'invited' : 'member'
      const rooms = (await client.rooms.list())
        .filter(({ room, membership }) => room.type !== 'p2p' && membership.status === status)
        .map(({ room, membership, unread }) => ({
          room: room.id,
          type: room.type,
          name: room.name,
          unread,
          role: membership.role,
          members: room.memberCount,
          ...(options.invited ? { until: membership.invitedUntil } : {}),
        }))
      if (globals.json) return printJson(rooms)
      if (rooms.length === 0) {
        return printLine(
          options.invited ? 'No invitations.' : 'You are in no group. Find one with `dmtp group search`, or `dmtp group create`.',
        )
      }
      for (const room of rooms) {
        const standing = options.invited
          ? `invited${room.until ? ` until ${room.until}` : ''}`
          : `${room.role}  ${room.unread} unread`
        printLine(terminalSafe(`${room.room}  "${room.name}" (${roomTypeLabel(room.type)})  ${standing}`))
      }
    })
}
