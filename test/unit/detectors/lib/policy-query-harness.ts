import type { DetectionContext, FindingDraft, QueryDetector } from '../../../../src/detectors/types.js';
import type { KmsEvent } from '../../../../src/normalize/types.js';
import { KeytrailDb } from '../../../../src/store/database.js';
import { EventStore } from '../../../../src/store/event-store.js';

/** The run window the access-family query tests use unless a test says otherwise: March 2024. */
export const MARCH_2024 = { from: '2024-03-01T00:00:00.000Z', to: '2024-04-01T00:00:00.000Z' };

/**
 * Run a query detector the way the engine does (src/pipeline/detect.ts): events stored in a real
 * in-memory DuckDB through the event store, the SQL run with the detector's bound parameters, the
 * rows turned into drafts.
 */
export async function runQueryDetector(
  detector: QueryDetector,
  events: readonly KmsEvent[],
  ctx: DetectionContext,
  window: { from: string; to: string } = MARCH_2024,
): Promise<{ drafts: FindingDraft[]; rows: Record<string, unknown>[] }> {
  const db = await KeytrailDb.open({ path: ':memory:', threads: 1 });
  try {
    await new EventStore(db).insertEvents(events);
    const rows = await db.all(detector.sql, detector.params(ctx, window));
    return { drafts: detector.toDrafts(rows, ctx), rows };
  } finally {
    db.close();
  }
}

/** `count` copies of an event, a given number of seconds apart, each with its own event id. */
export function repeated(event: KmsEvent, count: number, everySeconds: number, idPrefix: string): KmsEvent[] {
  const start = Date.parse(event.eventTime);
  return Array.from({ length: count }, (_, i) => {
    const eventTime = new Date(start + i * everySeconds * 1000).toISOString();
    return { ...event, eventId: `${idPrefix}-${String(i).padStart(4, '0')}`, sharedEventId: null, eventTime, eventDate: eventTime.slice(0, 10) };
  });
}
