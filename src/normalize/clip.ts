/** Largest original text kept with a rejection; beyond it the text is cut and says so. */
export const MAX_ORIGINAL_CHARS = 64 * 1024;

/** Cut a rejected input to {@link MAX_ORIGINAL_CHARS}, saying so, without splitting a surrogate pair. */
export function clipOriginal(text: string): string {
  if (text.length <= MAX_ORIGINAL_CHARS) return text;
  let cut = MAX_ORIGINAL_CHARS;
  const last = text.charCodeAt(cut - 1);
  if (last >= 0xd800 && last <= 0xdbff) cut--;
  return `${text.slice(0, cut)}… [truncated from ${text.length} characters]`;
}
