/**
 * `dmtp group log`: a room's membership log (who created, joined, left, was invited, kicked,
 * banned, muted, given a role; settings changed), each event signed by its actor and replayed
 * here: "verified" is false for an event the replay refuses (forged, or not allowed at its place).
 */
import type { RoomEvent } from '@dmtp/protocol'
import { Command } from 'commander'
import { connect } from '../connect.js'
import { globalOptions } from '../global-options.js'
import { printJson, printLine, terminalSafe } from '../output.js'
import { parseId } from '../parsers.js'
import { requireWallet } from '../wallet.js'

/**
 * @example
 * import { groupLogCommand } from './commands/group-log.js'
 * group.addCommand(groupLogCommand())
 */
export function groupLogCommand(): Command {
  return new Command('log')
    .description("Show a room's signed membership log, verified here")
    .requiredOption('--room <id>', 'the room', parseId)
    .addHelpText(
      'after',
      `
Examples:
  $ dmtp group log --room AGWwcmrhX9BHfF0JejIEqg   ✓ [2026-…Z] 0xA11c…9c4c created the public room "DMTP builders"
  $ dmtp group log --room AGWw… --json            [{"type","actor","subject","at","verified","seq","id","line","problem","event"}]

"subject" is who the event is about (an array of addresses, "all", or null); "event" is the signed
event itself. Exit status 1 when an event fails verification.`,
    )
    .action(async (options: { room: string }, command: Command) => {
      const globals = globalOptions(command)
      const client = connect(globals, requireWallet(globals))
      const { events } = await client.rooms.log(options.room)
      const entries = events.map(({ seq, event, line, verified, problem }) => ({
        type: event.type,
        actor: event.actor,
        subject: subjectOf(event),
        at: event.at,
        verified,
        seq,
        id: event.id,
        line,
        problem,
        event,
      }))
      if (globals.json) printJson(entries)
      else {
        for (const entry of entries) {
          printLine(
            terminalSafe(
              `${entry.verified ? '✓' : '✗'} [${entry.at}] ${entry.line}${entry.problem ? `  (${entry.problem})` : ''}`,
            ),
          )
        }
      }
      if (entries.some((entry) => !entry.verified)) process.exitCode = 1
    })
}

function subjectOf(event: RoomEvent): string[] | 'all' | null {
  if ('all' in event && event.all) return 'all'
  if ('members' in event && event.members) return event.members
  return null
}
