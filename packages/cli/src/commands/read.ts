/**
 * `dmtp read`: the history with one wallet (`--with`) or the whole inbox, each message verified
 * and decrypted on this machine; `--follow` then keeps printing new messages as they arrive,
 * across dropped connections, until Ctrl-C. A message that fails verification is shown as such,
 * never with text.
 */
import { MAX_CURSOR } from '@dmtp/protocol'
import type { DecryptedMessage, DmtpClient, MessageStatus } from '@dmtp/sdk'
import { Command } from 'commander'
import { connect } from '../connect.js'
import { globalOptions } from '../global-options.js'
import { printJson, printLine, printNotice, terminalSafe } from '../output.js'
import { parseAddress, parsePositiveInt } from '../parsers.js'
import { untilSignal } from '../until-signal.js'
import { requireWallet } from '../wallet.js'

type ReadOptions = { with?: string; limit?: number; follow?: boolean }

/** The server's largest pages. */
const HISTORY_PAGE = 500
const INBOX_PAGE = 1000

const STATUS_TEXT: Record<Exclude<MessageStatus, 'ok'>, string> = {
  not_for_me: 'not addressed to this wallet',
  altered: 'altered after it was sent',
  unknown_key: 'signed or encrypted with keys that cannot be verified',
  undecryptable: 'cannot be decrypted',
  awaiting_migration: 'sent before you set up DMTP; run `dmtp migrate` to make it end-to-end',
  invalid_author: 'its sender signature does not match its text',
}

/**
 * @example
 * import { readCommand } from './commands/read.js'
 * program.addCommand(readCommand())
 */
export function readCommand(): Command {
  return new Command('read')
    .description('Print messages, oldest first: one conversation (--with) or the whole inbox')
    .option('--with <address>', 'only the conversation with this wallet', parseAddress)
    .option('--limit <n>', 'only the last n messages (default: all)', parsePositiveInt)
    .option('-f, --follow', 'then keep printing new messages until Ctrl-C')
    .addHelpText(
      'after',
      `
Examples:
  $ dmtp read                                    the whole inbox, sent and received
  $ dmtp read --with 0xB0b… --limit 20           the last 20 messages with 0xB0b…
  $ dmtp read --follow                           ...then new ones as they arrive
  $ dmtp read --with 0xB0b… --json               [{"id","room","sender","receiver","text","timestamp","e2ee"}]
  $ dmtp read --follow --json | jq .text         one JSON object per line (NDJSON)

A message that fails verification has "text": null and a "status" saying why.`,
    )
    .action(async (options: ReadOptions, command: Command) => {
      const globals = globalOptions(command)
      const client = connect(globals, requireWallet(globals))
      const print = (message: DecryptedMessage) =>
        globals.json ? printJson(messageJson(message)) : printLine(formatMessage(message))
      // The inbox cursor to follow from, taken before the history so nothing falls in between.
      const from = options.follow && options.with ? await latestCursor(client) : undefined
      const { messages, cursor } = options.with
        ? { messages: await conversation(client, options.with, options.limit), cursor: from }
        : await inbox(client, options.limit)
      if (!options.follow) {
        if (globals.json) printJson(messages.map(messageJson))
        else for (const message of messages) print(message)
        return
      }
      for (const message of messages) print(message)
      const peer = options.with
      const shown = new Set(messages.map((message) => message.id))
      const live = client.stream({ cursor })
      void untilSignal().then(() => live.close())
      for await (const event of live) {
        if (event.type === 'message') {
          const { message } = event
          if (shown.has(message.id) || (peer && message.sender !== peer && message.receiver !== peer)) continue
          print(message)
        } else if (event.type === 'connected') {
          printNotice(event.resumed ? 'reconnected' : 'following new messages (Ctrl-C to stop)')
        } else if (event.type === 'disconnected') {
          printNotice(`connection lost (${event.reason}); reconnecting in ${(event.retryInMs / 1000).toFixed(1)} s`)
        }
      }
    })
}

/** The conversation with `peer`, oldest first; with a limit, only the newest `limit`. */
async function conversation(client: DmtpClient, peer: string, limit = Number.POSITIVE_INFINITY): Promise<DecryptedMessage[]> {
  const order = Number.isFinite(limit) ? 'desc' : 'asc'
  const messages: DecryptedMessage[] = []
  let cursor: number | undefined
  do {
    const page = await client.messages(peer, { cursor, order, limit: Math.min(HISTORY_PAGE, limit - messages.length) })
    messages.push(...page.messages)
    cursor = page.nextCursor ?? undefined
  } while (cursor !== undefined && messages.length < limit)
  return order === 'desc' ? messages.reverse() : messages
}

/** The inbox, oldest first, and the cursor of its last entry; with a limit, only the newest `limit`. */
async function inbox(client: DmtpClient, limit?: number): Promise<{ messages: DecryptedMessage[]; cursor: number }> {
  // Inbox cursors are gapless per wallet, so the newest n start right after `latest - n`.
  const end = limit === undefined ? Number.POSITIVE_INFINITY : await latestCursor(client)
  let after = limit === undefined ? 0 : Math.max(0, end - limit)
  const messages: DecryptedMessage[] = []
  while (after < end) {
    const page = await client.inbox({ after, limit: Math.min(INBOX_PAGE, end - after) })
    for (const entry of page.entries) {
      messages.push(entry.message)
      after = entry.cursor
    }
    if (page.entries.length === 0 || after >= page.latest) break
  }
  return { messages, cursor: after }
}

/** The newest inbox cursor, without fetching any message (no entry lies beyond the largest cursor). */
async function latestCursor(client: DmtpClient): Promise<number> {
  return (await client.inbox({ after: MAX_CURSOR, limit: 1 })).latest
}

function messageJson(message: DecryptedMessage) {
  const { id, room, sender, receiver, text, timestamp, e2ee, status } = message
  return { id, room, sender, receiver, text, timestamp, e2ee, ...(text === null ? { status } : {}) }
}

function formatMessage(message: DecryptedMessage): string {
  const head = `[${message.timestamp}] ${message.sender} → ${message.receiver}${message.e2ee ? '' : ' (NOT end-to-end encrypted)'}`
  if (message.text === null) {
    return `${head}: ⚠ unreadable: ${STATUS_TEXT[message.status as Exclude<MessageStatus, 'ok'>]} (${message.status})`
  }
  return `${head}: ${terminalSafe(message.text).replaceAll('\n', '\n    ')}`
}
