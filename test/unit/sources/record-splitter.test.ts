import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { RecordSplitter, type SplitEvent, type SplitMode } from '../../../src/sources/record-splitter.js';
import { deliveryText, fixturePath, guideRecords, trickyRecords } from './helpers.js';

function split(text: string, mode: SplitMode, chunkSize: number): SplitEvent[] {
  const splitter = new RecordSplitter(mode);
  const events: SplitEvent[] = [];
  for (let i = 0; i < text.length; i += chunkSize) events.push(...splitter.push(text.slice(i, i + chunkSize)));
  events.push(...splitter.end());
  return events;
}

function values(events: SplitEvent[]): { index: number; value: unknown }[] {
  return events.map((e) => {
    if (e.kind !== 'value') throw new Error(`unexpected ${e.kind}: ${e.reason}`);
    return { index: e.index, value: JSON.parse(e.text) as unknown };
  });
}

describe('Source: record splitter', () => {
  const records = guideRecords();
  const delivery = deliveryText(records);

  it('splits a real-shaped delivery file into its records at every chunk size from 1 to 50', () => {
    expect(records).toHaveLength(74);
    const expected = records.map((value, index) => ({ index, value }));
    for (let size = 1; size <= 50; size++) {
      expect(values(split(delivery, 'delivery', size)), `chunk size ${size}`).toEqual(expected);
    }
  });

  it('keeps strings with brackets, escaped quotes, trailing backslashes and unicode intact at every chunk size', () => {
    const tricky = trickyRecords();
    const text = deliveryText(tricky);
    // The payloads really are in the text, escaped the way JSON.stringify escapes them.
    expect(text).toContain('C:\\\\"');
    expect(text).toContain('😀');
    const expected = tricky.map((value, index) => ({ index, value }));
    for (let size = 1; size <= 50; size++) {
      expect(values(split(text, 'delivery', size)), `chunk size ${size}`).toEqual(expected);
    }
  });

  it('reads a pretty-printed file whose Records key is not the first, ignoring Records nested in earlier keys', () => {
    const text = readFileSync(fixturePath('sources/delivery-pretty-records-not-first.json'), 'utf8');
    const expected = records.slice(1, 4).map((value, index) => ({ index, value }));
    for (const size of [1, 7, 64, 100_000]) {
      expect(values(split(text, 'delivery', size))).toEqual(expected);
    }
  });

  it('recognises a Records key spelled with an escape', () => {
    const text = `{"Rec\\u006frds":[${JSON.stringify(records[0])}]}`;
    expect(values(split(text, 'delivery', 3))).toEqual([{ index: 0, value: records[0] }]);
  });

  it('emits records while the file is still arriving rather than at the end', () => {
    const splitter = new RecordSplitter('delivery');
    const half = Math.floor(delivery.length / 2);
    const early = splitter.push(delivery.slice(0, half));
    expect(early.length).toBeGreaterThan(10);
    expect(early.length).toBeLessThan(74);
    // Between records nothing of the finished ones is held.
    const rest = splitter.push(delivery.slice(half));
    expect(early.length + rest.length).toBe(74);
    expect(splitter.partialText()).toBe('');
    expect(splitter.end()).toEqual([]);
  });

  it('keeps the records before a cut and reports the one the file ends inside', () => {
    const third = delivery.indexOf('"eventVersion"', delivery.indexOf('"eventVersion"', delivery.indexOf('"eventVersion"') + 1) + 1);
    const cut = delivery.slice(0, third + 40);
    const events = split(cut, 'delivery', 13);
    expect(events.slice(0, 2).map((e) => (e.kind === 'value' ? JSON.parse(e.text) : e))).toEqual(records.slice(0, 2));
    expect(events).toHaveLength(3);
    expect(events[2]).toMatchObject({ kind: 'error', index: 2, reason: 'file ends inside Records[2] (truncated?)' });
    expect(events[2]?.kind === 'error' && cut.endsWith(events[2].text)).toBe(true);
  });

  it('reports a file cut between records, after the last complete one', () => {
    const text = `{"Records":[${JSON.stringify(records[0])},`;
    const events = split(text, 'delivery', 5);
    expect(events[0]?.kind).toBe('value');
    expect(events[1]).toMatchObject({ kind: 'error', index: 1, reason: 'file ends inside the Records array after Records[0] (truncated?)' });
  });

  it('frames a broken record on its own so the next one still splits', () => {
    const text = `{"Records":[${JSON.stringify(records[0])},{"eventVersion": 1.08,,"x":{}},${JSON.stringify(records[1])}]}`;
    const events = split(text, 'delivery', 4);
    expect(events.map((e) => e.kind)).toEqual(['value', 'value', 'value']);
    expect(() => JSON.parse(events[1]?.kind === 'value' ? events[1].text : '')).toThrow();
    expect(events[2]).toMatchObject({ index: 2 });
    expect(JSON.parse(events[2]?.kind === 'value' ? events[2].text : '')).toEqual(records[1]);
  });

  it('passes scalar elements through for the normalizer to judge', () => {
    expect(values(split('{"Records":[null, 12 ,"x,y", true]}', 'delivery', 2))).toEqual([
      { index: 0, value: null },
      { index: 1, value: 12 },
      { index: 2, value: 'x,y' },
      { index: 3, value: true },
    ]);
  });

  it('reports a Records value that is not an array', () => {
    const events = split('{"Records":null}', 'delivery', 1);
    expect(events).toEqual([expect.objectContaining({ kind: 'error', reason: expect.stringContaining('Records is not an array') })]);
  });

  it('reads several delivery objects one after another (zcat of many files) with running indexes', () => {
    const text = `${deliveryText(records.slice(0, 2))}\n${deliveryText(records.slice(2, 5))}`;
    expect(values(split(text, 'delivery', 9))).toEqual(records.slice(0, 5).map((value, index) => ({ index, value })));
  });

  it('tells a delivery object from another JSON object by its Records key', () => {
    const delivery = new RecordSplitter('delivery');
    delivery.push('{"foo":[1,2],"Rec');
    expect(delivery.phase).toBe('searching');
    delivery.push('ords":[');
    expect(delivery.phase).toBe('records');

    const other = new RecordSplitter('delivery');
    const events = other.push(`${JSON.stringify(records[0])}\n`);
    expect(other.phase).toBe('no-records');
    expect(events).toEqual([expect.objectContaining({ kind: 'error', reason: expect.stringContaining('no Records array') })]);
  });

  it('splits the elements of a top-level array', () => {
    const text = ` [\n${records
      .slice(0, 4)
      .map((r) => JSON.stringify(r, null, 2))
      .join(',\n')}\n]\n`;
    for (const size of [1, 2, 50]) {
      expect(values(split(text, 'array', size))).toEqual(records.slice(0, 4).map((value, index) => ({ index, value })));
    }
    expect(split('[{"a":1},', 'array', 3)[1]).toMatchObject({ kind: 'error', reason: 'file ends inside the array after array element 0 (truncated?)' });
  });

  it('splits a sequence of pretty-printed values and indexes each by the line it starts on', () => {
    const first = JSON.stringify(records[0], null, 2);
    const text = `\n${first}\n\n${JSON.stringify(records[1])}\n"tail"`;
    const expected = [
      { index: 1, value: records[0] },
      { index: 3 + first.split('\n').length - 1, value: records[1] },
      { index: 4 + first.split('\n').length - 1, value: 'tail' },
    ];
    for (const size of [1, 5, 1000]) expect(values(split(text, 'sequence', size))).toEqual(expected);
  });

  it('reports unexpected text after the end of the delivery object once', () => {
    const events = split(`${deliveryText(records.slice(0, 1))} trailing junk`, 'delivery', 6);
    expect(events.map((e) => e.kind)).toEqual(['value', 'error']);
    expect(events[1]).toMatchObject({ reason: expect.stringContaining('unexpected text after the end of the JSON object') });
  });
});
