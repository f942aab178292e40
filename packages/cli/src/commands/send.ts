/**
 * `dmtp send`: a message to a wallet (`--to`: encrypted to its verified keys, signed and sent; the
 * server sees who talks to whom and when, never the text) or to a room (`--room`: a group's
 * messages are signed, not encrypted). To a wallet that has not set up DMTP, the message goes to
 * the server's verified key instead (pattern β) and a warning says so on stderr; `--no-relay`
 * refuses instead.
 */
import { Command, Option } from 'commander'
import { connect } from '../connect.js'
import { usageError } from '../errors.js'
import { globalOptions } from '../global-options.js'
import { messageText } from '../message-text.js'
import { printJson, printLine, printWarning, terminalSafe } from '../output.js'
import { collectAddress, parseAddress, parseId } from '../parsers.js'
import { roomTypeLabel } from '../rooms.js'
import { requireWallet } from '../wallet.js'

type SendOptions = { to?: string; room?: string; replyTo?: string; mention?: string[]; relay: boolean; plain?: boolean }

/**
 * @example
 * import { sendCommand } from './commands/send.js'
 * program.addCommand(sendCommand())
 */
export function sendCommand(): Command {
  return new Command('send')
    .description('Send a message to a wallet (end-to-end encrypted) or to a room')
    .addOption(new Option('--to <address>', 'the recipient wallet (1:1)').argParser(parseAddress).conflicts('room'))
    .option('--room <id>', 'or the room to post in (see `dmtp group list`)', parseId)
    .option('--reply-to <id>', 'the id of the message this one replies to', parseId)
    .option('--mention <address>', 'highlight the message for this wallet (repeat for several)', collectAddress)
    .option('--no-relay', 'fail (recipient_not_registered) instead of relaying to a wallet without DMTP keys')
    .option('--plain', 'in a private group that allows it: send this message in plaintext, readable by the server')
    .argument('<text...>', 'the message (several words are joined with spaces), or - to read it from stdin')
    .addHelpText(
      'after',
      `
Examples:
  $ dmtp send --to 0xB0b… gm, how are you?
  $ echo "multi-line text" | dmtp send --to 0xB0b… -
  $ dmtp send --to 0xB0b… --json hello            {"id":"…","room":"…","e2ee":true}
  $ dmtp send --to 0xNew… --no-relay hi           refuse if 0xNew… has not set up DMTP
  $ dmtp send --room AGWwcmrhX9BHfF0JejIEqg gm, builders
  $ dmtp send --room AGWw… --reply-to 3h5Jk… --mention 0xB0b… good point
                                                  a reply, highlighted for 0xB0b…

To a wallet that has not set up DMTP, the message is encrypted to the server's key (checked
against the registry owner) and "e2ee" is false: the server could read it until the receiver sets
up, when their client makes it end-to-end encrypted and the server deletes its readable copy.
A warning says so on stderr.

Public rooms and private groups are not end-to-end encrypted: the server and the room's readers
see the text; each message is signed by you. In a room you may be refused with "not_member",
"banned", "muted" or "forbidden" (your role lacks the permission, named in the message).`,
    )
    .action(async (words: string[], options: SendOptions, command: Command) => {
      const globals = globalOptions(command)
      if (!options.to && !options.room) throw usageError('pass --to <address> or --room <id> (one of them)')
      const client = connect(globals, requireWallet(globals))
      const text = await messageText(words)
      const described = options.room && !globals.json ? (await client.rooms.get(options.room)).room : undefined
      const sent = await client.send((options.to ?? options.room) as string, text, {
        relay: options.relay,
        replyTo: options.replyTo,
        mentions: options.mention,
        plain: options.plain,
      })
      if (options.to && !sent.e2ee) printWarning(sent.notice ?? 'this message is not end-to-end encrypted')
      if (sent.warning) printWarning(sent.warning)
      if (globals.json)
        return printJson({ id: sent.id, room: sent.room, e2ee: sent.e2ee, ...(sent.warning ? { warning: sent.warning } : {}) })
      if (!described) {
        return printLine(`Sent ${sent.id} to ${options.to} (${sent.e2ee ? 'end-to-end encrypted' : 'NOT end-to-end encrypted'})`)
      }
      const label =
        described.type === 'p2p'
          ? sent.e2ee
            ? 'end-to-end encrypted'
            : 'NOT end-to-end encrypted'
          : roomTypeLabel(described.type, sent.e2ee)
      const name = described.name === null ? `room ${described.id}` : `"${described.name}"`
      printLine(terminalSafe(`Sent ${sent.id} to ${name} (${label})`))
    })
}
