import { clipOriginal } from '../normalize/clip.js';
import type { Rejection } from '../normalize/types.js';
import { RecordSplitter, type SplitEvent } from './record-splitter.js';
import type { FileShape, SourceItem } from './types.js';

/** Largest original text kept with a rejection; beyond it the text is cut and says so. */

/**
 * Largest file read whole as one pretty-printed JSON value (or a `jq`-style run of them) when its
 * first line is not JSON on its own. Larger files are read as NDJSON and the line rejected.
 */
export const WHOLE_VALUE_LIMIT = 64 * 1024 * 1024;

/** What a decoder needs to know about the input it is decoding. */
export interface DecodeOptions {
  /** `origin.uri` and `sourceUri` of everything decoded. */
  uri: string;
  /** File name or S3 key; `.jsonl`/`.ndjson` names make a leading `[` mean NDJSON, not an array. */
  nameHint?: string;
  /** Told the file's shape once it is known (never for an empty file). */
  onShape?: (shape: FileShape) => void;
  /** Override of {@link WHOLE_VALUE_LIMIT}, in characters. */
  wholeValueLimit?: number;
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Collects a decoder's output and counts values, for "after N records" in a gzip report. */
class Emitter {
  items: SourceItem[] = [];
  values = 0;
  shapeKnown = false;

  constructor(
    readonly uri: string,
    private readonly onShape: ((shape: FileShape) => void) | undefined,
  ) {}

  value(value: unknown, position: number, text?: string): void {
    this.values++;
    this.items.push(
      text === undefined
        ? { kind: 'value', value, origin: { uri: this.uri, position } }
        : { kind: 'value', value, origin: { uri: this.uri, position }, text },
    );
  }

  reject(position: number | null, reason: string, original: string): void {
    const rejection: Rejection = { sourceUri: this.uri, position, reason, original: clipOriginal(original) };
    this.items.push({ kind: 'rejected', rejection });
  }

  shape(shape: FileShape): void {
    if (this.shapeKnown) return;
    this.shapeKnown = true;
    this.onShape?.(shape);
  }

  take(): SourceItem[] {
    const items = this.items;
    this.items = [];
    return items;
  }
}

/** Where an input cut off by a decoding error stopped: the next position and its partial text. */
interface CutOff {
  position: number | null;
  original: string;
}

/** Parse each piece a splitter found; a piece that is not JSON is rejected and the rest go on. */
function emitSplit(splitter: RecordSplitter, events: SplitEvent[], emit: Emitter): void {
  for (const event of events) {
    if (event.kind === 'value') {
      let value: unknown;
      try {
        value = JSON.parse(event.text);
      } catch (error) {
        emit.reject(event.index, `invalid JSON in ${splitter.describe(event.index)}: ${errorMessage(error)}`, event.text);
        continue;
      }
      emit.value(value, event.index, event.text);
    } else {
      emit.reject(event.index, event.reason, event.text);
    }
  }
}

function isBlank(line: string): boolean {
  if (line.length === 0) return true;
  const c = line.charCodeAt(0);
  if (c !== 0x20 && c !== 0x09 && c !== 0x0d) return false;
  return line.trim() === '';
}

/** Values that need a closing bracket cannot parse when cut short, so a cut-off line that parses is whole. */
function isClosedValue(line: string): boolean {
  const t = line.trimStart();
  return t.startsWith('{') || t.startsWith('[');
}

/**
 * NDJSON: one value per line. If the first non-blank line is not JSON, the file may be one value
 * printed over many lines; it is then held (up to a limit) and read both ways at the end.
 */
class NdjsonDecoder {
  private line = 0;
  private carry: string[] = [];
  private carryLength = 0;
  private sawContent = false;
  private whole: string[] | null = null;
  private wholeLength = 0;
  private wholeFirstLine = 0;

  constructor(
    private readonly emit: Emitter,
    private readonly wholeValueLimit: number,
  ) {}

  push(text: string): void {
    if (this.whole !== null) {
      this.whole.push(text);
      this.wholeLength += text.length;
      if (this.wholeLength > this.wholeValueLimit) this.giveUpWhole();
      return;
    }
    let from = 0;
    for (;;) {
      const nl = text.indexOf('\n', from);
      if (nl < 0) break;
      let line = text.slice(from, nl);
      if (this.carryLength > 0) {
        this.carry.push(line);
        line = this.carry.join('');
        this.carry = [];
        this.carryLength = 0;
      }
      from = nl + 1;
      if (this.sawContent) {
        this.handleLine(line);
      } else if (isBlank(line)) {
        this.line++;
      } else if (!this.tryLine(line)) {
        // The first line is not JSON: perhaps a pretty-printed value. Keep the rest to decide at the end.
        this.sawContent = true;
        this.whole = [line, '\n', text.slice(from)];
        this.wholeFirstLine = this.line;
        this.wholeLength = line.length + 1 + text.length - from;
        if (this.wholeLength > this.wholeValueLimit) this.giveUpWhole();
        return;
      }
    }
    if (from < text.length) {
      const tail = from === 0 ? text : text.slice(from);
      this.carry.push(tail);
      this.carryLength += tail.length;
    }
  }

  end(): void {
    if (this.whole !== null) {
      this.decideWhole(false);
      return;
    }
    const last = this.takeCarry();
    if (last !== null) {
      if (!this.sawContent) {
        if (!isBlank(last) && !this.tryLine(last)) {
          // A single line that is not JSON: nothing else to read it as.
          this.emit.shape('ndjson');
          this.rejectLine(last, '');
        }
      } else {
        this.handleLine(last);
      }
    }
  }

  abort(): CutOff {
    if (this.whole !== null) return this.decideWhole(true) ?? { position: this.line, original: '' };
    const last = this.takeCarry();
    if (last !== null && !isBlank(last)) {
      // A gzip error after the last complete line (say, a cut-off trailer) loses nothing.
      if (isClosedValue(last) && this.tryParse(last)) return { position: this.line, original: '' };
      return { position: this.line, original: last };
    }
    return { position: this.line, original: '' };
  }

  private takeCarry(): string | null {
    if (this.carryLength === 0) return null;
    const last = this.carry.join('');
    this.carry = [];
    this.carryLength = 0;
    return last;
  }

  /** Parse a line, emitting it and advancing when it is JSON. */
  private tryParse(line: string): boolean {
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      return false;
    }
    this.emit.shape('ndjson');
    this.emit.value(value, this.line++, line);
    return true;
  }

  /** The first non-blank line: JSON means NDJSON from here on. */
  private tryLine(line: string): boolean {
    if (!this.tryParse(line)) return false;
    this.sawContent = true;
    return true;
  }

  private handleLine(line: string): void {
    if (isBlank(line)) {
      this.line++;
      return;
    }
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (error) {
      this.rejectLine(line, errorMessage(error));
      return;
    }
    this.emit.value(value, this.line++, line);
  }

  private rejectLine(line: string, message: string, note = ''): void {
    const detail = message || this.parseError(line);
    this.emit.reject(this.line, `invalid JSON at line ${this.line + 1}: ${detail}${note}`, line.endsWith('\r') ? line.slice(0, -1) : line);
    this.line++;
  }

  private parseError(line: string): string {
    try {
      JSON.parse(line);
      return 'not JSON';
    } catch (error) {
      return errorMessage(error);
    }
  }

  /** The held text is too large to read whole: read it as NDJSON, rejecting the first line. */
  private giveUpWhole(): void {
    const text = (this.whole ?? []).join('');
    this.whole = null;
    this.wholeLength = 0;
    this.emit.shape('ndjson');
    const nl = text.indexOf('\n');
    const first = nl < 0 ? text : text.slice(0, nl);
    this.rejectLine(first, '', `; the file is too large (over ${Math.round(this.wholeValueLimit / 1048576)} MiB) to read as one pretty-printed JSON value`);
    if (nl >= 0) this.push(text.slice(nl + 1));
  }

  /**
   * Decide how to read a file whose first line is not JSON: as `jq`-style values (one
   * pretty-printed value, or several) or as NDJSON with bad lines. The reading that recovers more
   * objects and arrays wins (a line of a pretty-printed value can be a lone string, which is no
   * record); on a tie, the one with fewer rejections; then NDJSON.
   */
  private decideWhole(cutOff: boolean): CutOff | null {
    const text = (this.whole ?? []).join('');
    this.whole = null;
    const base = this.wholeFirstLine;

    const asValues = this.readValues(text, base, null, cutOff);
    const asLines = this.readLines(text, base, null, cutOff);
    const valuesWin = asValues.ok > asLines.ok || (asValues.ok === asLines.ok && asValues.bad < asLines.bad);
    this.emit.shape(valuesWin ? 'json-value' : 'ndjson');
    return valuesWin ? this.readValues(text, base, this.emit, cutOff).cutOff : this.readLines(text, base, this.emit, cutOff).cutOff;
  }

  /**
   * Read held text as whitespace-separated JSON values; emits when `emit` is given, else only
   * counts. When the input was cut off, an unfinished last value is returned instead of rejected.
   */
  private readValues(text: string, base: number, emit: Emitter | null, cutOff: boolean): Reading {
    const splitter = new RecordSplitter('sequence', { firstLine: base });
    const events = splitter.push(text);
    let result: CutOff | null = null;
    for (const event of splitter.end()) {
      if (cutOff && event.kind === 'error') result = { position: event.index, original: event.text };
      else events.push(event);
    }
    let ok = 0;
    let bad = 0;
    for (const event of events) {
      if (event.kind === 'value') {
        let value: unknown;
        try {
          value = JSON.parse(event.text);
        } catch (error) {
          bad++;
          emit?.reject(event.index, `invalid JSON in ${splitter.describe(event.index)}: ${errorMessage(error)}`, event.text);
          continue;
        }
        if (typeof value === 'object' && value !== null) ok++;
        emit?.value(value, event.index);
      } else {
        bad++;
        emit?.reject(event.index, event.reason, event.text);
      }
    }
    if (emit) this.line = splitter.nextIndex;
    return { ok, bad, cutOff: cutOff ? (result ?? { position: splitter.nextIndex, original: '' }) : null };
  }

  /** Read held text as NDJSON lines; emits when `emit` is given, else only counts. */
  private readLines(text: string, base: number, emit: Emitter | null, cutOff: boolean): Reading {
    const lines = text.split('\n');
    const endsWithNewline = text.endsWith('\n');
    if (endsWithNewline) lines.pop();
    let ok = 0;
    let bad = 0;
    let result: CutOff | null = null;
    for (const [offset, raw] of lines.entries()) {
      const position = base + offset;
      if (isBlank(raw)) continue;
      const isLast = offset === lines.length - 1 && !endsWithNewline;
      if (cutOff && isLast && !isClosedValue(raw)) {
        // A cut-off scalar could parse as a shorter one; it is the cut, not a value.
        result = { position, original: raw };
        continue;
      }
      let value: unknown;
      try {
        value = JSON.parse(raw);
      } catch (error) {
        if (cutOff && isLast) {
          result = { position, original: raw };
          continue;
        }
        bad++;
        emit?.reject(position, `invalid JSON at line ${position + 1}: ${errorMessage(error)}`, raw.endsWith('\r') ? raw.slice(0, -1) : raw);
        continue;
      }
      if (typeof value === 'object' && value !== null) ok++;
      emit?.value(value, position);
    }
    if (emit) this.line = base + lines.length;
    return { ok, bad, cutOff: cutOff ? (result ?? { position: base + lines.length, original: '' }) : null };
  }
}

/** How one reading of held text went. */
interface Reading {
  /** Objects and arrays read. */
  ok: number;
  bad: number;
  cutOff: CutOff | null;
}

const SNIFF = 0;
const PROBE = 1;
const SPLIT = 2;
const NDJSON = 3;

/**
 * Turns the decoded text of one file (or S3 object), fed in chunks, into source items. The shape is
 * detected from the first non-whitespace character: `[` is an array of values; `{` is a CloudTrail
 * delivery file when its top-level object has a `Records` key (in any position), else the start of
 * NDJSON or of one pretty-printed value; anything else is NDJSON.
 */
export class ItemDecoder {
  private mode = SNIFF;
  private readonly emit: Emitter;
  private held: string[] = [];
  private heldLength = 0;
  private splitter: RecordSplitter | null = null;
  private ndjson: NdjsonDecoder | null = null;
  private started = false;
  private readonly ndjsonName: boolean;
  private readonly wholeValueLimit: number;

  constructor(options: DecodeOptions) {
    this.emit = new Emitter(options.uri, options.onShape);
    this.ndjsonName = /\.(jsonl|ndjson)(\.gz)?$/i.test(options.nameHint ?? '');
    this.wholeValueLimit = options.wholeValueLimit ?? WHOLE_VALUE_LIMIT;
  }

  /** Values emitted so far. */
  get values(): number {
    return this.emit.values;
  }

  /** Feed the next chunk of decoded text; returns the items it completed, in order. */
  push(text: string): SourceItem[] {
    if (!this.started && text.length > 0) {
      this.started = true;
      // A byte-order mark is not JSON; editors on Windows write one.
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    this.route(text);
    return this.emit.take();
  }

  /** The input is complete. */
  end(): SourceItem[] {
    if (this.mode === SNIFF) {
      // Nothing but whitespace (or nothing at all).
      return this.emit.take();
    }
    if (this.mode === PROBE) this.toNdjson();
    if (this.mode === SPLIT && this.splitter) emitSplit(this.splitter, this.splitter.end(), this.emit);
    else this.ndjson?.end();
    return this.emit.take();
  }

  /**
   * The input stopped early because it could not be decoded (a truncated or corrupt gzip stream).
   * Returns what was complete before the cut, then one rejection whose reason is `reason` followed
   * by how many records were read.
   */
  abort(reason: string): SourceItem[] {
    if (this.mode === PROBE) this.toNdjson();
    let cut: CutOff;
    if (this.mode === SPLIT && this.splitter) {
      cut = { position: this.splitter.nextIndex, original: this.splitter.partialText() };
    } else if (this.ndjson) {
      cut = this.ndjson.abort();
    } else {
      // Nothing but whitespace arrived before the cut.
      cut = { position: 0, original: '' };
    }
    const values = this.emit.values;
    this.emit.reject(cut.position, `${reason} after ${values} record${values === 1 ? '' : 's'}`, cut.original);
    return this.emit.take();
  }

  private route(text: string): void {
    switch (this.mode) {
      case SPLIT: {
        const splitter = this.splitter;
        if (splitter) emitSplit(splitter, splitter.push(text), this.emit);
        return;
      }
      case NDJSON:
        this.ndjson?.push(text);
        return;
      case PROBE:
        this.probe(text);
        return;
      default:
        this.sniff(text);
    }
  }

  private sniff(text: string): void {
    this.held.push(text);
    this.heldLength += text.length;
    let first = -1;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) {
        first = c;
        break;
      }
    }
    if (first < 0) return;
    const held = this.held;
    this.held = [];
    this.heldLength = 0;
    if (first === 0x5b && !this.ndjsonName) {
      this.emit.shape('json-array');
      this.startSplit(new RecordSplitter('array'), held);
    } else if (first === 0x7b) {
      this.mode = PROBE;
      this.splitter = new RecordSplitter('delivery');
      for (const part of held) this.probe(part);
    } else {
      this.mode = NDJSON;
      this.ndjson = new NdjsonDecoder(this.emit, this.wholeValueLimit);
      for (const part of held) this.ndjson.push(part);
    }
  }

  private startSplit(splitter: RecordSplitter, held: string[]): void {
    this.mode = SPLIT;
    this.splitter = splitter;
    for (const part of held) emitSplit(splitter, splitter.push(part), this.emit);
  }

  /**
   * A file that starts with `{`: keep its text until the first top-level object shows a `Records`
   * key (a delivery file: stream the records) or closes without one (read it again as NDJSON).
   */
  private probe(text: string): void {
    if (this.mode !== PROBE) {
      this.route(text);
      return;
    }
    const splitter = this.splitter;
    if (!splitter) return;
    this.held.push(text);
    this.heldLength += text.length;
    const events = splitter.push(text);
    if (splitter.phase === 'records') {
      this.held = [];
      this.heldLength = 0;
      this.mode = SPLIT;
      this.emit.shape('cloudtrail-delivery');
      emitSplit(splitter, events, this.emit);
    } else if (splitter.phase === 'no-records' || this.heldLength > this.wholeValueLimit) {
      this.toNdjson();
    }
  }

  private toNdjson(): void {
    const held = this.held;
    this.held = [];
    this.heldLength = 0;
    this.splitter = null;
    this.mode = NDJSON;
    this.ndjson = new NdjsonDecoder(this.emit, this.wholeValueLimit);
    for (const part of held) this.ndjson.push(part);
  }
}
