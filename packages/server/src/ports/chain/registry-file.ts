/** Where a server remembers the registry it deployed: `<dir>/registry.json`, per chain id. */
import fs from 'node:fs'
import path from 'node:path'
import type { Hex } from './types.js'

export function readRegistryFile(dir: string, chainId: number): Hex | undefined {
  try {
    const saved = JSON.parse(fs.readFileSync(path.join(dir, 'registry.json'), 'utf8')) as { address: Hex; chainId: number }
    return saved.chainId === chainId ? saved.address : undefined
  } catch {
    return undefined
  }
}

export async function writeRegistryFile(dir: string, chainId: number, address: Hex): Promise<void> {
  fs.mkdirSync(dir, { recursive: true })
  fs.writeFileSync(
    path.join(dir, 'registry.json'),
    `${JSON.stringify({ address, chainId, deployedAt: new Date().toISOString() }, null, 2)}\n`,
  )
}
