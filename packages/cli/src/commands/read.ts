/**
 * `dmtp read`: one room's history (`--room`, or the 1:1 room `--with` a wallet), folded with its
 * reactions, edits, recalls and pins; or the whole inbox, every position as it was stored. Each
 * is verified (and decrypted) on this machine; `--follow` then keeps printing new positions as they
 * arrive, across dropped connections, until Ctrl-C. A message that fails verification is shown as
 * such, never with text.
 */
import { MAX_CURSOR } from '@dmtp/protocol'
import { type DecryptedMessage, type DmtpClient, foldMessages, type MessageView, type RoomSummary } from '@dmtp/sdk'
import { Command, Option } from 'commander'
import { connect } from '../connect.js'
import { globalOptions } from '../global-options.js'
import { feedJson, feedLine, roomHeader, viewJson, viewLine } from '../message-format.js'
import { printJson, printLine, printNotice } from '../output.js'
import { parseAddress, parseId, parsePositiveInt } from '../parsers.js'
import { type RoomName, roomDirectory } from '../rooms.js'
import { untilSignal } from '../until-signal.js'
import { requireWallet } from '../wallet.js'

type ReadOptions = { with?: string; room?: string; limit?: number; follow?: boolean; markRead: boolean }

/** The server's largest pages. */
const HISTORY_PAGE = 500
const INBOX_PAGE = 1000

/**
 * @example
 * import { readCommand } from './commands/read.js'
 * program.addCommand(readCommand())
 */
export function readCommand(): Command {
  return new Command('read')
    .description('Print messages, oldest first: one room (--room), one conversation (--with) or the whole inbox')
    .addOption(
      new Option('--room <id>', 'only this room (a group, or a 1:1 room by its id)').argParser(parseId).conflicts('with'),
    )
    .option('--with <address>', 'only the 1:1 conversation with this wallet', parseAddress)
    .option('--limit <n>', 'only the last n messages (default: all)', parsePositiveInt)
    .option(
      '-f, --follow',
      'then keep printing new messages (and reactions, edits, recalls, pins, membership changes) until Ctrl-C',
    )
    .option('--no-mark-read', 'with --room or --with: leave the read marker (unread counts) where it is')
    .addHelpText(
      'after',
      `
Examples:
  $ dmtp read                                    the whole inbox, sent and received, every room
  $ dmtp read --room AGWwcmrhX9BHfF0JejIEqg      a group's history, with reactions, edits and who joined
  $ dmtp read --with 0xB0b… --limit 20           the last 20 messages with 0xB0b…
  $ dmtp read --follow                           ...then new ones as they arrive
  $ dmtp read --room AGWw… --json                [{"id","sender","text","status","replyTo","reactions","edited","recalled",…}]
  $ dmtp read --with 0xB0b… --json               the same shape, with "receiver" and "e2ee"
  $ dmtp read --follow --json | jq .text         one JSON object per line (NDJSON)

--room and --with fold each message with what acted on it: "reactions" [{"emoji","count","mine"}],
"edited" (true once edited, "text" is the newest), "recalled" (false, or the address that recalled
it; "text" is null then), "replyTo" (the id replied to, or null), "pinned". Membership changes
(joins, kicks, roles) are shown to people but left out of --json: see \`dmtp group log --room ID --json\`.
Reading a room moves its read marker to the newest message (--no-mark-read to leave it).

The inbox, and what --follow prints as it arrives, is every position as stored, told apart by
"type": "message", "react"/"unreact", "edit", "recall", "pin"/"unpin" (with the "target" message
id), or "system" (a membership change: "text" is its line, "event" the signed event). For people:
"0xA11ce… reacted 👍 to <id>".

Public rooms and private groups are not end-to-end encrypted (the server can read them; every
message is signed by its sender); 1:1 messages are. A message that fails verification has
"text": null and a "status" saying why.`,
    )
    .action(async (options: ReadOptions, command: Command) => {
      const globals = globalOptions(command)
      const wallet = requireWallet(globals)
      const client = connect(globals, wallet)
      let names = roomDirectory(client)
      const room = options.room ?? (options.with ? await client.openDirect(options.with) : undefined)
      // Describe the room first: an unknown room (or a private one you are not in) fails here.
      const described = options.room ? await client.rooms.get(options.room) : undefined
      // The stream cursor to follow from, taken before the history so nothing falls in between.
      const from = options.follow && room ? await latestCursor(client) : undefined
      const printFeed = async (message: DecryptedMessage, inRoom = false) => {
        if (globals.json) return printJson(feedJson(message))
        const name: RoomName | undefined = inRoom || message.receiver !== null ? undefined : await names.get(message.room)
        printLine(feedLine(message, name))
      }
      let shown: Set<string>
      let cursor: number | undefined = from
      if (room) {
        const positions = await history(client, room, options.limit, globals.json)
        const views = pickViews(foldMessages(positions, { me: wallet.address }), options.limit, globals.json)
        const newest = positions.reduce((max, position) => Math.max(max, position.seq), 0)
        if (options.markRead && newest > 0) await client.markRead(room, newest)
        if (globals.json && !options.follow) return printJson(views.map(viewJson))
        if (described && !globals.json) printLine(roomHeader(described.room, described.membership.role))
        for (const view of views) globals.json ? printJson(viewJson(view)) : printLine(viewLine(view))
        shown = new Set(positions.map((position) => position.cid))
      } else {
        names = roomDirectory(client, await loadGroupLogs(client))
        const inboxed = await inbox(client, options.limit)
        if (globals.json && !options.follow) return printJson(inboxed.messages.map(feedJson))
        for (const message of inboxed.messages) await printFeed(message)
        shown = new Set(inboxed.messages.map((message) => message.cid))
        cursor = inboxed.cursor
      }
      if (!options.follow) return
      const live = client.stream({ cursor })
      void untilSignal().then(() => live.close())
      for await (const event of live) {
        if (event.type === 'message') {
          const { message } = event
          if (shown.has(message.cid) || (room && message.room !== room)) continue
          await printFeed(message, room !== undefined)
        } else if (event.type === 'connected') {
          printNotice(event.resumed ? 'reconnected' : 'following new messages (Ctrl-C to stop)')
        } else if (event.type === 'disconnected') {
          printNotice(`connection lost (${event.reason}); reconnecting in ${(event.retryInMs / 1000).toFixed(1)} s`)
        }
      }
    })
}

/**
 * Loads the membership log of each group the wallet is in, and returns the wallet's rooms.
 * @NOTE Works around the SDK's `getInbox`, which reads a page's entries in parallel: two log
 * entries of a room whose log is not loaded yet then race in its log replay, and the first is
 * reported `invalid_log` ("entry 1 follows entry 1"). With the log loaded first, each entry is a
 * lookup. Rooms left since are not covered (a private one can no longer be described).
 */
async function loadGroupLogs(client: DmtpClient): Promise<RoomSummary[]> {
  const rooms = await client.rooms.list()
  const groups = rooms.filter(({ room, membership }) => room.type !== 'p2p' && membership.status === 'member')
  await Promise.all(groups.map(({ room }) => client.rooms.get(room.id)))
  return rooms
}

/** What a history shows: messages, failed actions, and (not in JSON) membership changes. */
const isShown = (position: { type: string; status: string }, json: boolean) =>
  position.type === 'message' || position.status !== 'ok' || (position.type === 'system' && !json)

/** The folded views to show; with a limit, only the newest `limit`. */
function pickViews(views: MessageView[], limit: number | undefined, json: boolean): MessageView[] {
  const shown = views.filter((view) => isShown(view, json))
  return limit === undefined ? shown : shown.slice(-limit)
}

/**
 * A room's positions, oldest first; with a limit, enough of the newest to show `limit` messages
 * (with every action on them, which come after them).
 */
async function history(client: DmtpClient, room: string, limit: number | undefined, json: boolean): Promise<DecryptedMessage[]> {
  const order = limit === undefined ? 'asc' : 'desc'
  const positions: DecryptedMessage[] = []
  let cursor: number | undefined
  let count = 0
  do {
    const page = await client.messages(room, { cursor, order, limit: HISTORY_PAGE })
    positions.push(...page.messages)
    count += page.messages.filter((message) => isShown(message, json)).length
    cursor = page.nextCursor ?? undefined
  } while (cursor !== undefined && (limit === undefined || count < limit))
  return order === 'desc' ? positions.reverse() : positions
}

type Entry = { cursor: number; message: DecryptedMessage }

/**
 * The inbox, oldest first, and the stream cursor to follow from; with a limit, only the newest
 * `limit` entries. Cursors are server-wide stream positions, with gaps (other wallets' rooms),
 * so the newest n are found by looking back over ever wider spans from the newest cursor.
 */
async function inbox(client: DmtpClient, limit?: number): Promise<{ messages: DecryptedMessage[]; cursor: number }> {
  if (limit === undefined) {
    const entries = await inboxRange(client, 0, Number.POSITIVE_INFINITY)
    return { messages: entries.map((entry) => entry.message), cursor: entries.at(-1)?.cursor ?? 0 }
  }
  const end = await latestCursor(client)
  let newest: Entry[] = []
  let to = end
  for (let span = limit; newest.length < limit && to > 0; span *= 4) {
    const from = Math.max(0, to - span)
    newest = [...(await inboxRange(client, from, to, limit - newest.length)), ...newest]
    to = from
  }
  return { messages: newest.map((entry) => entry.message), cursor: end }
}

/** The inbox entries with `from` < cursor ≤ `to`, oldest first; only the newest `keep` of them. */
async function inboxRange(client: DmtpClient, from: number, to: number, keep = Number.POSITIVE_INFINITY): Promise<Entry[]> {
  let entries: Entry[] = []
  let after = from
  while (after < to) {
    const page = await client.inbox({ after, limit: INBOX_PAGE })
    for (const entry of page.entries) {
      if (entry.cursor > to) return entries.slice(-keep)
      entries.push(entry)
      after = entry.cursor
    }
    if (entries.length > 2 * keep) entries = entries.slice(-keep)
    if (page.entries.length === 0 || after >= page.latest) break
  }
  return entries.slice(-keep)
}

/** The newest stream cursor of the wallet's rooms, without fetching any message (none lies beyond the largest cursor). */
async function latestCursor(client: DmtpClient): Promise<number> {
  return (await client.inbox({ after: MAX_CURSOR, limit: 1 })).latest
}
