/**
 * Writes of pattern β: handoffs and Processing Chats, in the transactions that write handoffs
 * and that swap relayed messages for migrated envelopes. The bulk rows of those go through the
 * transaction's `insertMany` / `updateEach` (the fastest way each dialect allows), which the
 * service calls itself.
 */
import { refreshProcessingChats } from './processing-chats.js'
import { MigrationReader } from './reader.js'

export class MigrationTransactor extends MigrationReader {
  /** Deletes the handoffs of the messages `messageIds`. */
  async deleteHandoffs(messageIds: string[]): Promise<void> {
    await this.db.deleteFrom('handoffs').where('message_id', 'in', messageIds).execute()
  }

  /** Keeps only the Processing Chats of `receiver` that still hold relayed messages. */
  refreshProcessingChats(receiver: string): Promise<void> {
    return refreshProcessingChats(this.db, receiver)
  }
}
