/**
 * `dmtp group info`: a room as the server describes it, checked against its membership log
 * replayed here (name, settings, member count, roles and your standing must be what the signed
 * log proves; any difference is listed).
 */
import type { RoomFork } from '@dmtp/sdk'
import { Command } from 'commander'
import { connect } from '../connect.js'
import { globalOptions } from '../global-options.js'
import { printJson, printLine, printWarning, terminalSafe } from '../output.js'
import { parseId } from '../parsers.js'
import { roomTypeLabel } from '../rooms.js'
import { requireWallet } from '../wallet.js'

/**
 * @example
 * import { groupInfoCommand } from './commands/group-info.js'
 * group.addCommand(groupInfoCommand())
 */
export function groupInfoCommand(): Command {
  return new Command('info')
    .description('Show a room, checked against its signed membership log')
    .requiredOption('--room <id>', 'the room', parseId)
    .addHelpText(
      'after',
      `
Examples:
  $ dmtp group info --room AGWwcmrhX9BHfF0JejIEqg
  $ dmtp group info --room AGWw… --json           {"room","type","name","description","announce","members",
                                                   "role","status","customRoles","e2ee","plain","epoch",
                                                   "due","verified","problems","fork"}

"role" is yours (null unless you are a member); "status" is member, invited, requested or none.
"verified" is false when the server says something the log does not prove ("problems" says what).
A private group you are not in is "room_not_found". "e2ee" says whether a private group is
end-to-end encrypted, "epoch" its current key's number, "due" why the next message comes under a
new key (null when it need not); all three are null for other rooms. "fork" is null unless this
wallet caught the server showing members different member lists (a split view): then it holds
the evidence ("reason", "theirs" and "ours" log heads, "namedBy" the member and record naming
theirs, "detectedAt"), and the room is warned about.`,
    )
    .action(async (options: { room: string }, command: Command) => {
      const globals = globalOptions(command)
      const client = connect(globals, requireWallet(globals))
      const { room, membership, verified, problems, fork } = await client.rooms.get(options.room)
      const info = {
        room: room.id,
        type: room.type,
        name: room.name,
        description: room.description,
        announce: room.announce,
        members: room.memberCount,
        role: membership.status === 'member' ? membership.role : null,
        status: membership.status,
        mutedUntil: membership.mutedUntil,
        customRoles: room.customRoles,
        e2ee: room.encryption?.e2ee ?? null,
        plain: room.encryption?.plain ?? null,
        epoch: room.encryption?.epoch ?? null,
        due: room.encryption?.due ?? null,
        verified,
        problems: problems.map((problem) => problem.problem),
        fork,
      }
      if (globals.json) return printJson(info)
      printLine(terminalSafe(`${info.name === null ? `room ${info.room}` : `"${info.name}"`} ${info.room}`))
      printLine(`  type         ${roomTypeLabel(info.type, info.e2ee === true)}${info.announce ? '; announcement-only' : ''}`)
      if (info.epoch !== null && info.e2ee) {
        const plain = info.plain ? '; members may send plaintext (marked so)' : ''
        printLine(`  key          epoch ${info.epoch}${info.due ? `, a new key is due (${info.due})` : ''}${plain}`)
      }
      if (info.description) printLine(terminalSafe(`  description  ${info.description}`))
      printLine(`  members      ${info.members}`)
      printLine(`  you          ${info.role ?? info.status}${info.mutedUntil ? `, muted until ${info.mutedUntil}` : ''}`)
      for (const [role, permissions] of Object.entries(info.customRoles)) {
        printLine(terminalSafe(`  role         ${role}: ${permissions.join(', ') || 'no permissions'}`))
      }
      printLine(`  log          ${verified ? 'verified' : 'FAILED verification'}`)
      for (const problem of info.problems) printWarning(problem)
      if (fork) printWarning(forkWarning(fork))
    })
}

/** The warning line of a split view, with its evidence. */
function forkWarning(fork: RoomFork): string {
  const head = (at: RoomFork['theirs']) => (at ? `${at.index === null ? '' : `entry ${at.index} `}${at.cid}` : 'an empty log')
  const record = fork.namedBy?.record
  const where = !record ? '' : record.type === 'key_delivery' ? `the key of epoch ${record.epoch}` : `${record.type} ${record.id}`
  const named = fork.namedBy ? `; named by ${fork.namedBy.address} in ${where}` : ''
  const reason = fork.reason.replaceAll('_', ' ')
  return `the server shows members different member lists (${reason}): theirs ${head(fork.theirs)}, ours ${head(fork.ours)}${named}`
}
