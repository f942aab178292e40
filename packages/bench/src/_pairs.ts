/** N pairs of real SDK clients, set up on the server, with a room already open between them. */
import { nodeCryptoBackend } from '@dmtp/protocol/node'
import { createClient, type DmtpClient, privateKeyWallet } from '@dmtp/sdk'
import { generatePrivateKey } from 'viem/accounts'

export type Pair = { alice: DmtpClient; bob: DmtpClient; aliceAddress: string; bobAddress: string }

export async function makePairs(server: string, count: number): Promise<Pair[]> {
  return Promise.all(
    Array.from({ length: count }, async () => {
      const alice = createClient({ server, wallet: privateKeyWallet(generatePrivateKey()), crypto: nodeCryptoBackend })
      const bob = createClient({ server, wallet: privateKeyWallet(generatePrivateKey()), crypto: nodeCryptoBackend })
      await Promise.all([alice.setup(), bob.setup()])
      const [aliceAddress, bobAddress] = [(await alice.getWallet()).address, (await bob.getWallet()).address]
      await alice.send(bobAddress, 'warm-up')
      return { alice, bob, aliceAddress, bobAddress }
    }),
  )
}
