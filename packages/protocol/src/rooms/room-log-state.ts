/**
 * A room's membership log replayed in memory (what every client does, and what tests compare the
 * server with). Entries are applied in order; each must continue the hash chain, and its event
 * must pass the rules at its place ({@link planRoomEvent}). An entry that does not is reported,
 * and its changes are not applied: the state is what an honest server would have. The state at
 * any earlier room position stays available, to check a message against who its sender was then.
 */
import type { Permission } from './permissions.js'
import type { LogEntry } from './room-event.js'
import {
  countsChange,
  type MemberState,
  NO_MEMBER,
  pickSuccessor,
  planCreate,
  planRoomEvent,
  type RoomEffect,
  type RoomSettings,
  type RoomStateView,
} from './rules.js'

export type RoomLogRoom = RoomSettings & { owners: number; members: number }

export type ApplyLogEntryResult = { ok: true } | { ok: false; problem: string }

type Versioned<T> = { seq: number; value: T }

export class RoomLogState implements RoomStateView {
  room: RoomLogRoom = {
    type: 'public',
    announce: false,
    customRoles: {},
    name: null,
    description: '',
    avatar: null,
    deleted: false,
    e2ee: false,
    plain: false,
    owners: 0,
    members: 0,
  }
  /** The last entry applied (or refused): the chain continues from it. */
  head: { index: number; cid: string; seq: number } | undefined
  /** Senders whose messages up to `seq` were recalled by a ban. */
  readonly recalls: { sender: string; seq: number }[] = []

  private readonly current = new Map<string, MemberState>()
  private readonly memberHistory = new Map<string, Versioned<MemberState>[]>()
  private readonly roomHistory: Versioned<RoomLogRoom>[] = []
  private readonly eventIds = new Set<string>()
  private created = false

  constructor(readonly id: string) {}

  member(address: string): MemberState {
    return this.current.get(address) ?? NO_MEMBER
  }

  /** Every address the log names with a state other than none (members, invitees, requests, bans). */
  entries(): [string, MemberState][] {
    return [...this.current].filter(([, state]) => state.status !== 'none' || state.banned || state.mutedUntil !== null)
  }

  /**
   * Applies the next entry. Its signature is the caller's to check (it needs the actor's key).
   * @param cid - the entry's CID, which the next entry must name as `prev`.
   */
  apply(entry: LogEntry, cid: string): ApplyLogEntryResult {
    const problem = this.chainProblem(entry)
    const previous = this.head
    this.head = { index: entry.index, cid, seq: entry.seq }
    if (problem) return { ok: false, problem }
    this.eventIds.add(entry.event.id)
    // A room exists only once a create is applied as its first entry: after any other first entry
    // (refused, off the chain, or set aside by the caller as forged) later events have no room to act in.
    const plan =
      previous === undefined
        ? planCreate(entry.event)
        : this.created
          ? planRoomEvent(this, entry.event)
          : ({ ok: false, message: 'The log does not start with a create event.' } as const)
    if (!plan.ok) return { ok: false, problem: `${entry.event.type} by ${entry.event.actor} refused: ${plan.message}` }
    if (entry.event.type === 'create') {
      this.created = true
      this.setRoom(entry.seq, { type: entry.event.roomType })
    }
    for (const effect of plan.effects) this.applyEffect(entry.seq, effect)
    if (this.room.members > 0 && this.room.owners === 0) {
      const successor = pickSuccessor(
        [...this.current]
          .filter(([, state]) => state.status === 'member')
          .map(([address, state]) => ({ address, role: state.role, joinedSeq: state.joinedSeq })),
      )
      if (successor) this.setMember(entry.seq, successor, { ...this.member(successor), role: 'owner' })
    }
    if (this.room.members === 0 && !this.room.deleted) this.setRoom(entry.seq, { deleted: true })
    return { ok: true }
  }

  /** The room as it was just before position `seq` (after every entry placed before it). */
  viewAt(seq: number): RoomStateView {
    const before = <T>(list: Versioned<T>[] | undefined): T | undefined => {
      if (!list) return undefined
      let low = 0
      let high = list.length
      while (low < high) {
        const middle = (low + high) >> 1
        if ((list[middle] as Versioned<T>).seq < seq) low = middle + 1
        else high = middle
      }
      return low === 0 ? undefined : (list[low - 1] as Versioned<T>).value
    }
    const room = before(this.roomHistory) ?? { ...this.room, deleted: false, members: 0, owners: 0 }
    return { room, member: (address) => before(this.memberHistory.get(address)) ?? NO_MEMBER }
  }

  private chainProblem(entry: LogEntry): string | undefined {
    if (entry.room !== this.id || entry.event.room !== this.id) return `entry ${entry.index} belongs to another room`
    const head = this.head
    if (!head) {
      if (entry.index !== 1 || entry.prev !== null) return 'the log does not start with its first entry'
    } else {
      if (entry.index !== head.index + 1) return `entry ${entry.index} follows entry ${head.index}`
      if (entry.prev !== head.cid) return `entry ${entry.index} does not link the entry before it`
      if (entry.seq <= head.seq) return `entry ${entry.index} is placed before the entry before it`
    }
    if (entry.event.basis >= entry.seq) return `entry ${entry.index} is placed before what its actor had seen`
    if (this.eventIds.has(entry.event.id)) return `entry ${entry.index} replays an earlier event`
    return undefined
  }

  private applyEffect(seq: number, effect: RoomEffect): void {
    switch (effect.kind) {
      case 'member':
        this.setMember(seq, effect.address, {
          ...this.member(effect.address),
          ...effect.set,
          ...(effect.joined ? { joinedSeq: seq } : {}),
        })
        break
      case 'members':
        for (const [address, state] of [...this.current]) {
          if (state.status === 'member' && address !== effect.except && effect.roles.includes(state.role)) {
            this.setMember(seq, address, { ...state, ...effect.set })
          }
        }
        break
      case 'room':
        this.setRoom(seq, effect.set)
        break
      case 'role': {
        const customRoles: Record<string, readonly Permission[]> = { ...this.room.customRoles }
        if (effect.permissions) customRoles[effect.role] = effect.permissions
        else delete customRoles[effect.role]
        this.setRoom(seq, { customRoles })
        break
      }
      case 'recall_all':
        this.recalls.push({ sender: effect.sender, seq })
        break
    }
  }

  private setMember(seq: number, address: string, next: MemberState): void {
    const change = countsChange(this.member(address), next)
    const counts = { members: this.room.members + change.members, owners: this.room.owners + change.owners }
    this.current.set(address, next)
    let history = this.memberHistory.get(address)
    if (!history) {
      history = []
      this.memberHistory.set(address, history)
    }
    history.push({ seq, value: next })
    if (counts.members !== this.room.members || counts.owners !== this.room.owners) this.setRoom(seq, counts)
  }

  private setRoom(seq: number, patch: Partial<RoomLogRoom>): void {
    this.room = { ...this.room, ...patch }
    const last = this.roomHistory.at(-1)
    if (last?.seq === seq) last.value = this.room
    else this.roomHistory.push({ seq, value: this.room })
  }
}
