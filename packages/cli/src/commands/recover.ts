/**
 * `dmtp recover`: rebuilds a room's history (a 1:1 conversation or a group, with its membership
 * log) from the chain and the block store alone (no server database needed), decrypts it with the
 * wallet, and writes it as JSON.
 */
import fs from 'node:fs'
import { Command } from 'commander'
import { chainTarget, withChainOptions } from '../chain-options.js'
import { connect } from '../connect.js'
import { globalOptions } from '../global-options.js'
import { printJson, printLine } from '../output.js'
import { parseId } from '../parsers.js'
import { progressBar } from '../progress.js'
import { requireWallet } from '../wallet.js'

type RecoverOptions = { room: string; out: string; chainRpc?: string; registry?: string }

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
when "text" is null.`,
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
        printJson({ room: result.room, recovered: history.length, unavailable: result.unavailable, out: options.out })
      else {
        printLine(`Recovered ${history.length} message(s) of room ${result.room} into ${options.out}`)
        if (result.unavailable.length > 0) printLine(`  ${result.unavailable.length} anchored message(s) could not be fetched`)
      }
      if (result.unavailable.length > 0) process.exitCode = 1
    })
}
