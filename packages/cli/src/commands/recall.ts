/**
 * `dmtp recall`: recalls a message ("delete for everyone"): yours, or anyone's with the
 * `recall_others` permission. In a group the server deletes the words and keeps the signed
 * envelope; in a 1:1 room every client hides the message.
 */
import { Command } from 'commander'
import { connect } from '../connect.js'
import { globalOptions } from '../global-options.js'
import { printJson, printLine } from '../output.js'
import { parseId } from '../parsers.js'
import { type RoomTarget, targetRoom, withRoomTarget } from '../rooms.js'
import { requireWallet } from '../wallet.js'

/**
 * @example
 * import { recallCommand } from './commands/recall.js'
 * program.addCommand(recallCommand())
 */
export function recallCommand(): Command {
  return withRoomTarget(new Command('recall'))
    .description('Recall a message for everyone (yours, or anyone\'s with "recall_others")')
    .requiredOption('--id <id>', 'the message to recall', parseId)
    .addHelpText(
      'after',
      `
Examples:
  $ dmtp recall --room AGWwcmrhX9BHfF0JejIEqg --id 3h5Jk…
  $ dmtp recall --with 0xB0b… --id 3h5Jk…
  $ dmtp recall --room AGWw… --id 3h5Jk… --json         {"id","room","target"}

Readers then show "(recalled)" in its place ("recalled": the address that recalled it, in --json).`,
    )
    .action(async (options: RoomTarget & { id: string }, command: Command) => {
      const globals = globalOptions(command)
      const client = connect(globals, requireWallet(globals))
      const room = await targetRoom(client, options)
      const sent = await client.recall(room, options.id)
      if (globals.json) return printJson({ id: sent.id, room: sent.room, target: options.id })
      printLine(`Recalled ${options.id}`)
    })
}
