/**
 * Split items into batches of at most `maxEntries` whose sizes add up to at most `maxBytes`, keeping
 * their order. An item larger than `maxBytes` on its own goes alone, for the service to judge.
 */
export function chunkBatches<T>(items: readonly T[], maxEntries: number, maxBytes: number, sizeOf: (item: T) => number): T[][] {
  const batches: T[][] = [];
  let current: T[] = [];
  let currentBytes = 0;
  for (const item of items) {
    const bytes = sizeOf(item);
    if (current.length > 0 && (current.length >= maxEntries || currentBytes + bytes > maxBytes)) {
      batches.push(current);
      current = [];
      currentBytes = 0;
    }
    current.push(item);
    currentBytes += bytes;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}
