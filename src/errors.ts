/** Base of every error keytrail raises on purpose; the CLI prints its message without a stack. */
export class KeytrailError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Bad usage or unreadable input: the CLI exits 2 with the message. */
export class UsageError extends KeytrailError {}

/** A file or object that could not be read at all. */
export class InputError extends KeytrailError {}

/** The database could not be opened or migrated. */
export class StoreError extends KeytrailError {}

/** Configuration failed validation; the message names the file and field. */
export class ConfigError extends KeytrailError {}
