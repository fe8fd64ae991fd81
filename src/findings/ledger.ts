import type { KeytrailDb } from '../store/database.js';

/** Ids per query: DuckDB binds them one placeholder each, so keep statements a sensible size. */
const IDS_PER_QUERY = 500;

/**
 * Which findings went to which sink (table `alert_ledger`). Publishing checks it before sending and
 * writes to it right after each delivery, so a retried or redelivered batch never alerts twice.
 * Delivery and the write are not one transaction: a crash between them sends that finding again on
 * the next run (at least once, never lost).
 */
export class AlertLedger {
  constructor(private readonly db: KeytrailDb) {}

  /** The ids among `findingIds` not yet recorded for `sink`, distinct, in the order given. */
  async unpublished(findingIds: readonly string[], sink: string): Promise<string[]> {
    const distinct = [...new Set(findingIds)];
    const published = new Set<string>();
    for (let start = 0; start < distinct.length; start += IDS_PER_QUERY) {
      const chunk = distinct.slice(start, start + IDS_PER_QUERY);
      const placeholders = chunk.map((_, i) => `$${i + 2}`).join(', ');
      const rows = await this.db.all(
        `SELECT finding_id FROM alert_ledger WHERE sink = $1 AND finding_id IN (${placeholders})`,
        [sink, ...chunk],
      );
      for (const row of rows) published.add(String(row['finding_id']));
    }
    return distinct.filter((id) => !published.has(id));
  }

  /** Record a delivery. Recording the same finding and sink again keeps the first record. */
  async markPublished(findingId: string, sink: string, messageId: string | null): Promise<void> {
    await this.markAllPublished(sink, [{ findingId, messageId }]);
  }

  /** Record many deliveries to one sink, a statement per few hundred: DuckDB's cost is per statement, not per row. */
  async markAllPublished(sink: string, deliveries: readonly { findingId: string; messageId: string | null }[]): Promise<void> {
    // The first record of a finding wins, within one call as across calls.
    const seen = new Set<string>();
    const distinct = deliveries.filter((d) => {
      if (seen.has(d.findingId)) return false;
      seen.add(d.findingId);
      return true;
    });
    const rowsPerStatement = Math.floor(IDS_PER_QUERY / 2);
    for (let start = 0; start < distinct.length; start += rowsPerStatement) {
      const chunk = distinct.slice(start, start + rowsPerStatement);
      const values = chunk.map((_, i) => `($${i * 2 + 2}, $1, $${i * 2 + 3}, now()::TIMESTAMP)`).join(', ');
      await this.db.exec(
        `INSERT INTO alert_ledger (finding_id, sink, message_id, published_at) VALUES ${values} ON CONFLICT DO NOTHING`,
        [sink, ...chunk.flatMap((d) => [d.findingId, d.messageId])],
      );
    }
  }

  /** Where a finding was delivered, for reports and tests. */
  async deliveries(findingId: string): Promise<{ sink: string; messageId: string | null; publishedAt: string }[]> {
    const rows = await this.db.all(
      'SELECT sink, message_id, published_at FROM alert_ledger WHERE finding_id = $1 ORDER BY sink',
      [findingId],
    );
    return rows.map((row) => ({
      sink: String(row['sink']),
      messageId: row['message_id'] === null ? null : String(row['message_id']),
      publishedAt: String(row['published_at']),
    }));
  }
}
