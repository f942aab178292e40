/** `dmtp group delete`: deletes a room for everyone (needs `delete_room`: Owners). */
import { Command } from 'commander'
import { connect } from '../connect.js'
import { globalOptions } from '../global-options.js'
import { printJson, printLine } from '../output.js'
import { parseId } from '../parsers.js'
import { requireWallet } from '../wallet.js'

/**
 * @example
 * import { groupDeleteCommand } from './commands/group-delete.js'
 * group.addCommand(groupDeleteCommand())
 */
export function groupDeleteCommand(): Command {
  return new Command('delete')
    .description('Delete a room for everyone (Owners only)')
    .requiredOption('--room <id>', 'the room', parseId)
    .addHelpText(
      'after',
      `
Examples:
  $ dmtp group delete --room AGWwcmrhX9BHfF0JejIEqg   Deleted AGWw…
  $ dmtp group delete --room AGWw… --json            {"room","deleted":true}

From then on the room is "room_not_found" for everyone. Needs the "delete_room" permission.`,
    )
    .action(async (options: { room: string }, command: Command) => {
      const globals = globalOptions(command)
      const client = connect(globals, requireWallet(globals))
      // @NOTE Loads the room's log first. The SDK applies the entry its event made to the log it
      // replays, and fetches the whole log when none is loaded yet: after a delete (or leaving a
      // private group) that fetch is refused, and the SDK reports room_not_found for an event that
      // took effect.
      await client.rooms.get(options.room)
      await client.rooms.delete(options.room)
      if (globals.json) return printJson({ room: options.room, deleted: true })
      printLine(`Deleted ${options.room}`)
    })
}
