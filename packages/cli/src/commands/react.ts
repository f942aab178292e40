/**
 * `dmtp react`: reacts to a message with an emoji, in any room (or takes the reaction back with
 * `--remove`). A reaction is a signed follow-up naming the message; readers count them.
 */
import { Command } from 'commander'
import { connect } from '../connect.js'
import { globalOptions } from '../global-options.js'
import { printJson, printLine, terminalSafe } from '../output.js'
import { parseId } from '../parsers.js'
import { type RoomTarget, targetRoom, withRoomTarget } from '../rooms.js'
import { requireWallet } from '../wallet.js'

type ReactOptions = RoomTarget & { id: string; remove?: boolean }

/**
 * @example
 * import { reactCommand } from './commands/react.js'
 * program.addCommand(reactCommand())
 */
export function reactCommand(): Command {
  return withRoomTarget(new Command('react'))
    .description('React to a message with an emoji (or take it back with --remove)')
    .requiredOption('--id <id>', 'the message reacted to (see `dmtp read --room ID`)', parseId)
    .option('--remove', 'take this reaction back')
    .argument('<emoji>', 'the emoji, e.g. 👍')
    .addHelpText(
      'after',
      `
Examples:
  $ dmtp react --room AGWwcmrhX9BHfF0JejIEqg --id 3h5Jk… 👍
  $ dmtp react --room AGWw… --id 3h5Jk… --remove 👍      take it back
  $ dmtp react --with 0xB0b… --id 3h5Jk… 🎉               in the 1:1 room with 0xB0b…
  $ dmtp react --room AGWw… --id 3h5Jk… 👍 --json        {"id","room","target","emoji","removed"}

Needs the "react" permission in a group.`,
    )
    .action(async (emoji: string, options: ReactOptions, command: Command) => {
      const globals = globalOptions(command)
      const client = connect(globals, requireWallet(globals))
      const room = await targetRoom(client, options)
      const sent = await client.react(room, options.id, emoji, { remove: options.remove === true })
      const removed = options.remove === true
      if (globals.json) return printJson({ id: sent.id, room: sent.room, target: options.id, emoji, removed })
      printLine(terminalSafe(removed ? `Took back ${emoji} from ${options.id}` : `Reacted ${emoji} to ${options.id}`))
    })
}
