/**
 * Who this server is to clients: its public URL, and the domain that sign-in messages and key
 * bundles must name. Known at construction when configured, else once the server listens.
 */
export class ServiceIdentity {
  private current: { url: string; domain: string } | undefined

  constructor(
    readonly chainId: number,
    url?: string,
  ) {
    if (url) this.set(url)
  }

  get isSet(): boolean {
    return this.current !== undefined
  }

  set(url: string): void {
    const parsed = new URL(url)
    this.current = { url: `${parsed.protocol}//${parsed.host}`, domain: parsed.host }
  }

  get url(): string {
    return this.require().url
  }

  get domain(): string {
    return this.require().domain
  }

  private require() {
    if (!this.current) throw new Error('The server identity is not known until it listens or DMTP_PUBLIC_URL is set')
    return this.current
  }
}

export type Clock = { now(): Date }
export const systemClock: Clock = { now: () => new Date() }
