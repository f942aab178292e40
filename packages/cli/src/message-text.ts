/** The text of a message (`dmtp send`, `dmtp edit`): its words joined with spaces, or all of stdin for `-`. */

/**
 * @example
 * import { messageText } from './message-text.js'
 * const text = await messageText(['gm,', 'everyone']) // 'gm, everyone'
 */
export async function messageText(words: string[]): Promise<string> {
  if (words.length !== 1 || words[0] !== '-') return words.join(' ')
  const chunks: Buffer[] = []
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer)
  // Without the trailing newlines that `echo` and editors add.
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/(\r?\n)+$/, '')
}
