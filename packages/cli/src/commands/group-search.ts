/** `dmtp group search`: public rooms whose name or description holds the text, largest first. */
import { Command } from 'commander'
import { connect } from '../connect.js'
import { globalOptions } from '../global-options.js'
import { printJson, printLine, terminalSafe } from '../output.js'
import { parsePositiveInt } from '../parsers.js'
import { requireWallet } from '../wallet.js'

/** The server's largest page. */
const SEARCH_PAGE = 100

/**
 * @example
 * import { groupSearchCommand } from './commands/group-search.js'
 * group.addCommand(groupSearchCommand())
 */
export function groupSearchCommand(): Command {
  return new Command('search')
    .description('Find public rooms by name or description, largest first')
    .argument('[text...]', 'words to look for (none: the largest public rooms)')
    .option('--limit <n>', 'at most n rooms (default: 20)', parsePositiveInt, 20)
    .addHelpText(
      'after',
      `
Examples:
  $ dmtp group search builders                    AGWw…  "DMTP builders"  12 members  all about DMTP
  $ dmtp group search --limit 100                 the 100 largest public rooms
  $ dmtp group search dmtp --json                 [{"room","name","description","members","announce"}]

Join one with \`dmtp group join --room ID\`. Private groups are never listed.`,
    )
    .action(async (words: string[], options: { limit: number }, command: Command) => {
      const globals = globalOptions(command)
      const client = connect(globals, requireWallet(globals))
      const found = []
      let cursor: number | undefined
      do {
        const page = await client.rooms.search({
          text: words.join(' '),
          cursor,
          limit: Math.min(SEARCH_PAGE, options.limit - found.length),
        })
        found.push(...page.rooms)
        cursor = page.next ?? undefined
      } while (cursor !== undefined && found.length < options.limit)
      const rooms = found.slice(0, options.limit).map((room) => ({
        room: room.id,
        name: room.name,
        description: room.description,
        members: room.memberCount,
        announce: room.announce,
      }))
      if (globals.json) return printJson(rooms)
      if (rooms.length === 0) return printLine('No public room matches.')
      for (const room of rooms) {
        const members = `${room.members} member${room.members === 1 ? '' : 's'}`
        printLine(terminalSafe(`${room.room}  "${room.name}"  ${members}${room.description ? `  ${room.description}` : ''}`))
      }
    })
}
