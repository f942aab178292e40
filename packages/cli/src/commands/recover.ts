/**
 * `dmtp recover`: rebuilds a room's history (a 1:1 conversation or a group, with its membership
 * log) from the chain and the block store alone (no server database needed), decrypts it with the
 * wallet, and writes it as JSON. Exits 1, listing each by kind, when any block could not be
 * fetched, and when nothing of the room is anchored: a file of `[]` is never a success.
 */
import fs from 'node:fs'
import type { UnavailableBlockKind } from '@dmtp/sdk'
import { Command } from 'commander'
import { chainTarget, withChainOptions } from '../chain-options.js'
import { connect } from '../connect.js'
import { globalOptions } from '../global-options.js'
import { printJson, printLine, printWarning, terminalSafe } from '../output.js'
import { parseId } from '../parsers.js'
import { progressBar } from '../progress.js'
import { requireWallet } from '../wallet.js'

type RecoverOptions = { room: string; out: string; chainRpc?: string; registry?: string }

const BLOCK_KINDS: Record<UnavailableBlockKind, string> = {
  manifest: 'manifest',
  envelope: 'envelope',
  log_entry: 'log entry',
  content: 'content',
  key_bundle: 'key bundle',
}

/** `3 unknown_key, 1 withheld`: how many positions have each status other than ok. */
function statusCounts(history: { text: string | null; status?: string }[]): string {
  const counts = new Map<string, number>()
  for (const { text, status } of history) if (text === null && status) counts.set(status, (counts.get(status) ?? 0) + 1)
  return [...counts].map(([status, count]) => `${count} ${status}`).join(', ')
}

/**
 * @example
 * import { recoverCommand } from './commands/recover.js'
 * program.addCommand(recoverCommand())
 */
export function recoverCommand(): Command {
  return withChainOptions(
    new Command('recover')
      .description("Rebuild a room's history from the chain and the block store, without the server's database")
      .requiredOption('--room <id>', 'the room to recover (a 1:1 conversation or a group)', parseId)
      .requiredOption('--out <file>', 'where to write the history (JSON)'),
  )
    .addHelpText(
      'after',
      `
Examples:
  $ dmtp recover --room AGWwcmrhX9BHfF0JejIEqg --out history.json

The file holds an array of {"id","room","sender","receiver","text","timestamp","cid","manifest","type","ref"},
every position as stored: "type" is "message", an action ("react", "edit", "recall", "pin", …, on
the message "ref") or "system" (a membership-log entry; "text" is its line). "status" says why
when "text" is null.

--json prints {"room","recovered","unavailable","out"}: "recovered" counts the positions whose
text could be read; "unavailable" lists every block that could not be fetched, as
{"kind","cid","reason"} with "kind" one of manifest, envelope, log_entry, content, key_bundle.
Exit status 1 when "unavailable" is not empty, or when nothing of the room is anchored.`,
    )
    .action(async (options: RecoverOptions, command: Command) => {
      const globals = globalOptions(command)
      const client = connect(globals, requireWallet(globals))
      const progress = progressBar({ enabled: !globals.json || process.stderr.isTTY === true })
      const result = await client
        .recover({ room: options.room, chain: chainTarget(options), onProgress: progress.report })
        .finally(() => progress.done())
      const history = result.messages.map(
        ({ id, room, sender, receiver, text, timestamp, cid, status, manifest, type, ref, emoji }) => ({
          id,
          room,
          sender,
          receiver,
          text,
          timestamp,
          cid,
          manifest,
          type,
          ref,
          ...(emoji !== null ? { emoji } : {}),
          ...(text === null ? { status } : {}),
        }),
      )
      fs.writeFileSync(options.out, `${JSON.stringify(history, null, 2)}\n`)
      if (globals.json)
        printJson({ room: result.room, recovered: result.readable, unavailable: result.unavailable, out: options.out })
      else {
        printLine(`Recovered ${result.readable} of ${history.length} position(s) of room ${result.room} into ${options.out}`)
        const unreadable = history.length - result.readable
        if (unreadable > 0) printLine(`  ${unreadable} position(s) without text: ${statusCounts(history)}`)
        if (result.unavailable.length > 0) printLine(`  ${result.unavailable.length} block(s) could not be fetched:`)
        for (const block of result.unavailable)
          printLine(`  ${BLOCK_KINDS[block.kind].padEnd(11)} ${block.cid}: ${terminalSafe(block.reason)}`)
      }
      if (history.length === 0 && result.unavailable.length === 0)
        printWarning(`nothing of room ${result.room} is anchored on chain yet: nothing to recover`)
      if (result.unavailable.length > 0 || history.length === 0) process.exitCode = 1
    })
}
