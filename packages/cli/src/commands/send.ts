/**
 * `dmtp send`: encrypts a text message to a wallet's verified keys, signs it, and sends it. The
 * server sees who talks to whom and when, never the text. To a wallet that has not set up DMTP,
 * the message goes to the server's verified key instead (pattern β) and a warning says so on
 * stderr; `--no-relay` refuses instead.
 */
import { Command } from 'commander'
import { connect } from '../connect.js'
import { globalOptions } from '../global-options.js'
import { printJson, printLine, printWarning } from '../output.js'
import { parseAddress } from '../parsers.js'
import { requireWallet } from '../wallet.js'

/**
 * @example
 * import { sendCommand } from './commands/send.js'
 * program.addCommand(sendCommand())
 */
export function sendCommand(): Command {
  return new Command('send')
    .description('Send an end-to-end encrypted message')
    .requiredOption('--to <address>', 'the recipient wallet', parseAddress)
    .option('--no-relay', 'fail (recipient_not_registered) instead of relaying to a wallet without DMTP keys')
    .argument('<text...>', 'the message (several words are joined with spaces), or - to read it from stdin')
    .addHelpText(
      'after',
      `
Examples:
  $ dmtp send --to 0xB0b… gm, how are you?
  $ echo "multi-line text" | dmtp send --to 0xB0b… -
  $ dmtp send --to 0xB0b… --json hello            {"id":"…","room":"…","e2ee":true}
  $ dmtp send --to 0xNew… --no-relay hi           refuse if 0xNew… has not set up DMTP

To a wallet that has not set up DMTP, the message is encrypted to the server's key (checked
against the registry owner) and "e2ee" is false: the server could read it until the receiver sets
up, when their client makes it end-to-end encrypted and the server deletes its readable copy.
A warning says so on stderr.`,
    )
    .action(async (words: string[], options: { to: string; relay: boolean }, command: Command) => {
      const globals = globalOptions(command)
      const client = connect(globals, requireWallet(globals))
      const text = words.length === 1 && words[0] === '-' ? await readStdin() : words.join(' ')
      const sent = await client.send(options.to, text, { relay: options.relay })
      if (!sent.e2ee) printWarning(sent.notice ?? 'this message is not end-to-end encrypted')
      if (globals.json) printJson({ id: sent.id, room: sent.room, e2ee: sent.e2ee })
      else printLine(`Sent ${sent.id} to ${options.to} (${sent.e2ee ? 'end-to-end encrypted' : 'NOT end-to-end encrypted'})`)
    })
}

/** All of stdin, without the trailing newlines that `echo` and editors add. */
async function readStdin(): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/(\r?\n)+$/, '')
}
