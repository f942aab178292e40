/** `dmtp group update`: changes a room's name, description or announcement-only setting (needs `set_info`). */
import { Command } from 'commander'
import { connect } from '../connect.js'
import { usageError } from '../errors.js'
import { globalOptions } from '../global-options.js'
import { printJson, printLine } from '../output.js'
import { parseId } from '../parsers.js'
import { requireWallet } from '../wallet.js'

type UpdateOptions = { room: string; name?: string; description?: string; announce?: boolean }

/**
 * @example
 * import { groupUpdateCommand } from './commands/group-update.js'
 * group.addCommand(groupUpdateCommand())
 */
export function groupUpdateCommand(): Command {
  return new Command('update')
    .description("Change a room's name, description or announcement-only setting")
    .requiredOption('--room <id>', 'the room', parseId)
    .option('--name <name>', 'the new name')
    .option('--description <text>', 'the new description')
    .option('--announce', 'announcement-only: Members read, only Sub Admins and up post')
    .option('--no-announce', 'every member may post')
    .addHelpText(
      'after',
      `
Examples:
  $ dmtp group update --room AGWwcmrhX9BHfF0JejIEqg --name "DMTP builders" --description "all about DMTP"
  $ dmtp group update --room AGWw… --announce
  $ dmtp group update --room AGWw… --no-announce --json   {"room","name","description","announce"}

Needs the "set_info" permission (Owners and Admins).`,
    )
    .action(async (options: UpdateOptions, command: Command) => {
      const globals = globalOptions(command)
      const { room, name, description, announce } = options
      if (name === undefined && description === undefined && announce === undefined) {
        throw usageError('pass at least one of --name, --description, --announce, --no-announce')
      }
      const client = connect(globals, requireWallet(globals))
      await client.rooms.update(room, { name, description, announce })
      const { room: updated } = await client.rooms.get(room)
      if (globals.json) {
        return printJson({ room, name: updated.name, description: updated.description, announce: updated.announce })
      }
      printLine(`Updated ${room}`)
    })
}
