/**
 * Streaming splitter for the JSON that trail files are made of. It finds where each record starts
 * and ends so that every record can be `JSON.parse`d on its own: a CloudTrail S3 delivery file is one
 * object `{"Records":[…]}` that is often hundreds of megabytes on a single line, and parsing it whole
 * would hold the file, and every record in it, in memory at once.
 *
 * The splitter does not validate JSON; it only tracks strings and bracket depth, and `JSON.parse`
 * judges each piece. Memory stays bounded by the largest record (plus, in delivery mode, the
 * largest value that precedes `Records` in the top-level object, which it skips without keeping).
 */

/** What a splitter finds: a piece of JSON text to parse, or input it could not frame at all. */
export type SplitEvent =
  | { kind: 'value'; text: string; index: number }
  | { kind: 'error'; index: number | null; reason: string; text: string };

/**
 * - `delivery`: top-level objects whose `Records` array elements are the values (a CloudTrail S3
 *   delivery file; several such objects one after another are read as one file).
 * - `array`: the elements of a top-level array (EventBridge exports).
 * - `sequence`: whitespace-separated top-level values (NDJSON, a pretty-printed value, `jq` output).
 *   Indexes are then the 0-based line on which each value starts.
 */
export type SplitMode = 'delivery' | 'array' | 'sequence';

/**
 * Progress of a `delivery` splitter through its first top-level object, so a reader can tell a
 * delivery file from a JSON value that merely starts with `{`: `searching` until a `Records` key is
 * seen (`records`) or the first object closes without one (`no-records`).
 */
export type DeliveryPhase = 'searching' | 'records' | 'no-records';

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const LBRACE = 0x7b;
const RBRACE = 0x7d;
const LBRACK = 0x5b;
const RBRACK = 0x5d;
const COMMA = 0x2c;
const COLON = 0x3a;
const SPACE = 0x20;
const TAB = 0x09;
const LF = 0x0a;
const CR = 0x0d;

// States. Plain numbers rather than an enum so the hot loop compares small integers.
/** Depth 0, between top-level values. */
const S_TOP = 0;
/** Delivery object, depth 1: expecting a key or `}`. */
const S_KEY = 1;
/** Delivery object, depth 1: inside a key string. */
const S_KEY_STRING = 2;
/** Delivery object, depth 1: expecting `:`. */
const S_COLON = 3;
/** Delivery object, depth 1: expecting a value. */
const S_VALUE = 4;
/** Delivery object, depth 1: inside a scalar value that is skipped. */
const S_VALUE_SCALAR = 5;
/** Delivery object, depth 1: expecting `,` or `}`. */
const S_AFTER_VALUE = 6;
/** At the depth of the elements: between elements. */
const S_ELEMENTS = 7;
/** Inside a scalar element (captured until a separator). */
const S_ELEMENT_SCALAR = 8;
/** Inside a container, deeper than `nestedBase`: an element being captured or a value being skipped. */
const S_NESTED = 9;
/** Unexpected text after the end; reported once, then ignored. */
const S_TRAILING = 10;

function isWhitespace(c: number): boolean {
  return c === SPACE || c === LF || c === CR || c === TAB;
}

/**
 * Splits a stream of JSON text, fed in chunks that may break anywhere (inside strings, escapes or
 * surrogate pairs), into the text of each record. Feed it decoded text (`StringDecoder`), not bytes.
 *
 * @example
 * const splitter = new RecordSplitter('delivery');
 * for (const chunk of chunks) for (const e of splitter.push(chunk)) handle(e);
 * for (const e of splitter.end()) handle(e);
 */
export class RecordSplitter {
  readonly mode: SplitMode;
  private state = S_TOP;
  private depth = 0;
  /** Depth at which values are elements: 2 in `Records`, 1 in an array, 0 in a sequence. */
  private readonly elementDepth: number;
  /** Depth that ends the current S_NESTED span. */
  private nestedBase = 0;
  /** Whether the current S_NESTED span is an element being captured (else a skipped value). */
  private nestedCapture = false;

  private inString = false;
  /** Parity of the backslashes that ended the previous chunk inside a string. */
  private backslashCarry = 0;

  /** Text of the element in progress from earlier chunks. */
  private parts: string[] = [];
  private partsLength = 0;
  /** Where the element in progress starts in the current chunk, or -1 when there is none. */
  private start = -1;
  private nextElement = 0;
  private elementIndex = 0;

  /** The depth-1 key being read, as JSON text with its quotes. */
  private keyText = '';
  private lastKey: string | null = null;
  /** Top-level objects begun so far (delivery mode), for messages. */
  private topObjects = 0;
  private objectHasRecords = false;
  private phaseValue: DeliveryPhase = 'searching';

  /** 0-based line of the current position (sequence mode only). */
  private line = 0;

  /** @param options.firstLine sequence mode: the line the text starts on, when it is not the file's start. */
  constructor(mode: SplitMode, options: { firstLine?: number } = {}) {
    this.mode = mode;
    this.elementDepth = mode === 'delivery' ? 2 : mode === 'array' ? 1 : 0;
    if (mode === 'sequence') this.state = S_ELEMENTS;
    this.line = options.firstLine ?? 0;
  }

  /** Delivery mode: whether the first top-level object has shown a `Records` key yet. */
  get phase(): DeliveryPhase {
    return this.phaseValue;
  }

  /** Index of the element in progress, else of the next one (in sequence mode: a line). */
  get nextIndex(): number {
    if (this.inElement) return this.elementIndex;
    return this.mode === 'sequence' ? this.line : this.nextElement;
  }

  /** Whether an element has started and not yet ended. */
  get inElement(): boolean {
    return this.state === S_ELEMENT_SCALAR || (this.state === S_NESTED && this.nestedCapture);
  }

  /** The element in progress so far (for a report on a truncated input); empty between elements. */
  partialText(): string {
    return this.inElement ? this.parts.join('') : '';
  }

  /** How the value at `index` is named in messages: `Records[3]`, `array element 3`, `the value at line 4`. */
  describe(index: number): string {
    if (this.mode === 'delivery') return `Records[${index}]`;
    if (this.mode === 'array') return `array element ${index}`;
    return `the value at line ${index + 1}`;
  }

  /** Feed the next chunk of text; returns what it completed, in order. */
  push(chunk: string): SplitEvent[] {
    const out: SplitEvent[] = [];
    const s = chunk;
    const n = s.length;
    let i = 0;

    if (this.inString) {
      i = this.skipString(s, 0);
      if (i < 0) {
        if (this.state === S_KEY_STRING) this.keyText += s;
        this.saveTail(s);
        return out;
      }
      if (this.state === S_KEY_STRING) {
        this.keyText += s.slice(0, i);
        this.endKey();
      }
    }

    while (i < n) {
      switch (this.state) {
        case S_NESTED: {
          // The hot loop: inside a record, only strings and brackets matter.
          let d = this.depth;
          const base = this.nestedBase;
          let closed = false;
          while (i < n) {
            const c = s.charCodeAt(i++);
            if (c === QUOTE) {
              // Fast path: most strings hold no escaped quote, so the next quote closes them.
              const q = s.indexOf('"', i);
              if (q >= 0 && s.charCodeAt(q - 1) !== BACKSLASH) {
                i = q + 1;
                continue;
              }
              i = this.skipString(s, i);
              if (i < 0) {
                i = n;
                break;
              }
            } else if (c === LBRACE || c === LBRACK) {
              d++;
            } else if (c === RBRACE || c === RBRACK) {
              if (--d === base) {
                closed = true;
                break;
              }
            }
          }
          this.depth = d;
          if (closed) {
            if (this.nestedCapture) {
              this.emitElement(s, i, out);
              this.state = S_ELEMENTS;
            } else {
              this.state = S_AFTER_VALUE;
            }
          }
          break;
        }

        case S_ELEMENTS: {
          const c = s.charCodeAt(i);
          if (isWhitespace(c)) {
            if (c === LF) this.line++;
            i++;
          } else if (c === COMMA) {
            i++;
          } else if ((c === RBRACK || c === RBRACE) && this.depth > 0) {
            // The end of the Records array (or top-level array).
            i++;
            this.closeElementContainer(c, out);
          } else {
            this.beginElement(i);
            i++;
            if (c === LBRACE || c === LBRACK) {
              this.depth++;
              this.nestedBase = this.elementDepth;
              this.nestedCapture = true;
              this.state = S_NESTED;
            } else {
              this.state = S_ELEMENT_SCALAR;
              if (c === QUOTE) {
                i = this.skipString(s, i);
                if (i < 0) i = n;
              }
            }
          }
          break;
        }

        case S_ELEMENT_SCALAR: {
          const c = s.charCodeAt(i);
          if (c === QUOTE) {
            i = this.skipString(s, i + 1);
            if (i < 0) i = n;
          } else if (c === COMMA || ((c === RBRACK || c === RBRACE) && this.depth > 0)) {
            this.emitElement(s, i, out);
            this.state = S_ELEMENTS;
            // The separator is handled in S_ELEMENTS.
          } else if (this.depth === 0 && (isWhitespace(c) || c === LBRACE || c === LBRACK)) {
            this.emitElement(s, i, out);
            this.state = S_ELEMENTS;
          } else {
            i++;
          }
          break;
        }

        case S_TOP: {
          const c = s.charCodeAt(i);
          if (isWhitespace(c)) {
            i++;
          } else if (this.mode === 'delivery' && c === LBRACE) {
            i++;
            this.depth = 1;
            this.topObjects++;
            this.objectHasRecords = false;
            this.state = S_KEY;
          } else if (this.mode === 'array' && c === LBRACK) {
            i++;
            this.depth = 1;
            this.state = S_ELEMENTS;
          } else {
            out.push({
              kind: 'error',
              index: null,
              reason: `unexpected text after the end of the JSON ${this.mode === 'array' ? 'array' : 'object'}: ${JSON.stringify(s.slice(i, i + 40))}`,
              text: s.slice(i, i + 1024),
            });
            this.state = S_TRAILING;
          }
          break;
        }

        case S_KEY: {
          const c = s.charCodeAt(i++);
          if (c === QUOTE) {
            this.keyText = '"';
            this.state = S_KEY_STRING;
            const end = this.skipString(s, i);
            if (end < 0) {
              this.keyText += s.slice(i);
              i = n;
            } else {
              this.keyText += s.slice(i, end);
              i = end;
              this.endKey();
            }
          } else if (c === RBRACE) {
            this.closeTopObject(out);
          } else if (!isWhitespace(c) && c !== COMMA) {
            // Not a key: skip it like a value so that a malformed object still ends where it should.
            i--;
            this.lastKey = null;
            this.state = S_VALUE;
          }
          break;
        }

        case S_COLON: {
          const c = s.charCodeAt(i);
          if (c === COLON) {
            i++;
            this.state = S_VALUE;
          } else if (isWhitespace(c)) {
            i++;
          } else {
            this.state = S_VALUE;
          }
          break;
        }

        case S_VALUE: {
          const c = s.charCodeAt(i);
          if (isWhitespace(c)) {
            i++;
            break;
          }
          const isRecords = this.lastKey === 'Records';
          if (isRecords && c === LBRACK) {
            i++;
            this.depth = 2;
            this.objectHasRecords = true;
            if (this.phaseValue === 'searching') this.phaseValue = 'records';
            this.state = S_ELEMENTS;
            break;
          }
          if (isRecords) {
            this.objectHasRecords = true;
            if (this.phaseValue === 'searching') this.phaseValue = 'records';
            out.push({
              kind: 'error',
              index: null,
              reason: `Records is not an array (it starts with ${JSON.stringify(s.slice(i, i + 20))})`,
              text: s.slice(i, i + 1024),
            });
          }
          if (c === LBRACE || c === LBRACK) {
            i++;
            this.depth = 2;
            this.nestedBase = 1;
            this.nestedCapture = false;
            this.state = S_NESTED;
          } else if (c === RBRACE) {
            this.state = S_AFTER_VALUE;
          } else {
            this.state = S_VALUE_SCALAR;
          }
          break;
        }

        case S_VALUE_SCALAR: {
          const c = s.charCodeAt(i);
          if (c === QUOTE) {
            i = this.skipString(s, i + 1);
            if (i < 0) i = n;
          } else if (c === COMMA || c === RBRACE) {
            this.state = S_AFTER_VALUE;
          } else {
            i++;
          }
          break;
        }

        case S_AFTER_VALUE: {
          const c = s.charCodeAt(i++);
          if (c === COMMA) {
            this.state = S_KEY;
          } else if (c === RBRACE) {
            this.closeTopObject(out);
          }
          // Anything else is malformed; skipping it keeps the framing of what follows.
          break;
        }

        case S_KEY_STRING:
          // Only reached when a chunk ends inside a key; handled at the top of push().
          i = n;
          break;

        default:
          // S_TRAILING
          i = n;
          break;
      }
    }

    this.saveTail(s);
    return out;
  }

  /**
   * Signal the end of input. Returns a rejection when the input stopped inside a record or before
   * the structure closed; a file cut off in the middle (a truncated download, a partial gzip) keeps
   * every record before the cut.
   */
  end(): SplitEvent[] {
    const out: SplitEvent[] = [];
    if (this.state === S_ELEMENT_SCALAR && !this.inString) {
      // A scalar needs no closing bracket; the end of input ends it.
      const text = this.parts.join('');
      this.resetElement();
      if (this.mode === 'sequence') {
        out.push({ kind: 'value', text, index: this.elementIndex });
        return out;
      }
      out.push({ kind: 'error', index: this.elementIndex, reason: `file ends inside ${this.describe(this.elementIndex)} (truncated?)`, text });
      return out;
    }
    if (this.inElement) {
      const text = this.parts.join('');
      this.resetElement();
      out.push({ kind: 'error', index: this.elementIndex, reason: `file ends inside ${this.describe(this.elementIndex)} (truncated?)`, text });
      return out;
    }
    if (this.mode === 'sequence' || this.state === S_TOP || this.state === S_TRAILING) return out;
    if (this.state === S_ELEMENTS) {
      const where = this.mode === 'delivery' ? 'the Records array' : 'the array';
      const after = this.nextElement > 0 ? ` after ${this.describe(this.nextElement - 1)}` : '';
      out.push({ kind: 'error', index: this.nextElement, reason: `file ends inside ${where}${after} (truncated?)`, text: '' });
      return out;
    }
    out.push({ kind: 'error', index: null, reason: 'file ends before the JSON object closes (truncated?)', text: '' });
    return out;
  }

  /**
   * Skip string content starting at `from` (just after the opening quote, or 0 when the string
   * continues from the previous chunk). Returns the index after the closing quote, or -1 when the
   * string runs past the end of the chunk.
   */
  private skipString(s: string, from: number): number {
    let i = from;
    for (;;) {
      const q = s.indexOf('"', i);
      const end = q < 0 ? s.length : q;
      // A quote is escaped when an odd number of backslashes precede it; the run may have begun in
      // the previous chunk, whose parity is carried.
      let k = end - 1;
      while (k >= from && s.charCodeAt(k) === BACKSLASH) k--;
      let run = end - 1 - k;
      if (k < from) run += this.backslashCarry;
      if (q < 0) {
        this.inString = true;
        this.backslashCarry = run & 1;
        return -1;
      }
      if ((run & 1) === 0) {
        this.inString = false;
        this.backslashCarry = 0;
        return q + 1;
      }
      i = q + 1;
    }
  }

  private endKey(): void {
    // Keys are decoded so that an escaped spelling of "Records" is still recognised.
    try {
      const key: unknown = JSON.parse(this.keyText);
      this.lastKey = typeof key === 'string' ? key : null;
    } catch {
      this.lastKey = null;
    }
    this.keyText = '';
    this.state = S_COLON;
  }

  private beginElement(i: number): void {
    this.start = i;
    this.elementIndex = this.mode === 'sequence' ? this.line : this.nextElement;
    this.nextElement++;
  }

  private emitElement(s: string, end: number, out: SplitEvent[]): void {
    let text = s.slice(this.start, end);
    if (this.partsLength > 0) {
      this.parts.push(text);
      text = this.parts.join('');
    }
    if (this.mode === 'sequence') {
      // Indexes are lines: count the newlines the value itself spans.
      let at = text.indexOf('\n');
      while (at >= 0) {
        this.line++;
        at = text.indexOf('\n', at + 1);
      }
      if (this.state === S_ELEMENT_SCALAR) text = text.trimEnd();
    } else if (this.state === S_ELEMENT_SCALAR) {
      text = text.trimEnd();
    }
    this.resetElement();
    out.push({ kind: 'value', text, index: this.elementIndex });
  }

  private resetElement(): void {
    this.start = -1;
    if (this.partsLength > 0) {
      this.parts = [];
      this.partsLength = 0;
    }
  }

  /** Keep the unfinished element's text from this chunk for the next one. */
  private saveTail(s: string): void {
    if (this.start >= 0 && this.start < s.length) {
      const tail = this.start === 0 ? s : s.slice(this.start);
      this.parts.push(tail);
      this.partsLength += tail.length;
    }
    if (this.start >= 0) this.start = 0;
  }

  private closeElementContainer(c: number, out: SplitEvent[]): void {
    if (this.mode === 'array') {
      if (c !== RBRACK) out.push({ kind: 'error', index: null, reason: 'the top-level array ends with } instead of ]', text: '' });
      this.depth = 0;
      this.state = S_TOP;
      return;
    }
    // The Records array closed: back to the keys of the top-level object.
    this.depth = 1;
    this.state = S_AFTER_VALUE;
    if (c === RBRACE) this.closeTopObject(out);
  }

  private closeTopObject(out: SplitEvent[]): void {
    this.depth = 0;
    this.state = S_TOP;
    this.lastKey = null;
    if (!this.objectHasRecords) {
      if (this.phaseValue === 'searching') this.phaseValue = 'no-records';
      out.push({
        kind: 'error',
        index: null,
        reason: `top-level JSON object ${this.topObjects} has no Records array`,
        text: '',
      });
    }
  }
}
