/**
 * `dmtp group info`: a room as the server describes it, checked against its membership log
 * replayed here (name, settings, member count, roles and your standing must be what the signed
 * log proves; any difference is listed).
 */
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
                                                   "due","verified","problems"}

"role" is yours (null unless you are a member); "status" is member, invited, requested or none.
"verified" is false when the server says something the log does not prove ("problems" says what).
A private group you are not in is "room_not_found". "e2ee" says whether a private group is
end-to-end encrypted, "epoch" its current key's number, "due" why the next message comes under a
new key (null when it need not); all three are null for other rooms.`,
    )
    .action(async (options: { room: string }, command: Command) => {
      const globals = globalOptions(command)
      const client = connect(globals, requireWallet(globals))
      const { room, membership, verified, problems } = await client.rooms.get(options.room)
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
    })
}
