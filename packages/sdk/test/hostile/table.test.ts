/**
 * Keeps docs/hostile-server.md true: every `attack()` in the repository's tests has a row there
 * with the same name, the same "caught" and its test file, and every row names a real attack.
 * Read from the sources (not from a run), so it holds whichever files a run selects.
 */
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { expect, test } from 'vitest'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..')

type Row = { name: string; caught: string; files: string[] }

function testFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true, recursive: true }).flatMap((entry) => {
    const full = path.join(entry.parentPath, entry.name)
    return entry.isFile() && entry.name.endsWith('.test.ts') && !full.includes('node_modules') ? [full] : []
  })
}

function attacksInSources(): Map<string, Row> {
  const attacks = new Map<string, Row>()
  const packages = path.join(root, 'packages')
  for (const name of fs.readdirSync(packages)) {
    const dir = path.join(packages, name, 'test')
    if (!fs.existsSync(dir)) continue
    for (const file of testFiles(dir)) {
      const source = fs.readFileSync(file, 'utf8')
      for (const match of source.matchAll(/attack\(\s*'((?:[^'\\]|\\.)*)',\s*'([^']*)'/g)) {
        const attackName = (match[1] as string).replace(/\\'/g, "'")
        const row = attacks.get(attackName) ?? { name: attackName, caught: match[2] as string, files: [] }
        row.files.push(path.relative(packages, file))
        attacks.set(attackName, row)
      }
    }
  }
  return attacks
}

function rowsInTable(): Map<string, Row> {
  const text = fs.readFileSync(path.join(root, 'docs/hostile-server.md'), 'utf8')
  const rows = new Map<string, Row>()
  for (const line of text.split('\n')) {
    const cells = line.match(/^\| (.+) \| (at once|on verify) \| (.+) \|$/)
    if (!cells) continue
    const files = [...(cells[3] as string).matchAll(/`([^`]+)`/g)].map((file) => file[1] as string)
    rows.set(cells[1] as string, { name: cells[1] as string, caught: cells[2] as string, files })
  }
  return rows
}

test('docs/hostile-server.md lists every attack of the suite, and only those', () => {
  const attacks = attacksInSources()
  const rows = rowsInTable()
  expect(attacks.size).toBeGreaterThan(50)
  expect(
    [...attacks.keys()].filter((name) => !rows.has(name)),
    'attacks without a row',
  ).toEqual([])
  expect(
    [...rows.keys()].filter((name) => !attacks.has(name)),
    'rows without an attack',
  ).toEqual([])
  for (const [name, attack] of attacks) {
    const row = rows.get(name) as Row
    expect({ name, caught: row.caught, files: [...row.files].sort() }).toEqual({
      name,
      caught: attack.caught,
      files: [...new Set(attack.files)].sort(),
    })
  }
})
