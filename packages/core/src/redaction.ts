/**
 * PII masking for everything that is logged, audited, shown in Bull Board or
 * put in an error message. Two rules: keys named in `PII_FIELDS`
 * (case-insensitive, ignoring `_`/`-`), and values that look like PII
 * (Luhn-valid card numbers, SSNs, e-mail addresses, phone numbers).
 */
export const REDACTED = '[REDACTED]';

export const DEFAULT_PII_FIELDS = [
  'customerName',
  'name',
  'firstName',
  'lastName',
  'fullName',
  'email',
  'phone',
  'phoneNumber',
  'mobile',
  'ssn',
  'accountNumber',
  'cardNumber',
  'address',
  'dob',
  'dateOfBirth',
  'ani',
  'dnis',
  'wrapupNotes',
] as const;

const fold = (k: string) => k.toLowerCase().replace(/[_-]/g, '');

const EMAIL = /[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}/g;
const SSN = /\b\d{3}-\d{2}-\d{4}\b/g;
// 13-19 digits, optionally grouped by spaces or dashes; kept only if Luhn-valid.
const CARD = /\b\d(?:[ -]?\d){12,18}\b/g;
// International or NANP-style phone numbers, including `tel:` URIs.
const PHONE = /(?:tel:)?\+\d[\d ()-]{7,18}\d|\(?\b\d{3}\)?[ .-]\d{3}[ .-]\d{4}\b/g;

export function luhnValid(digits: string): boolean {
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return false;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return digits.length > 0 && sum % 10 === 0;
}

/** Masks PII-looking substrings in free text. */
export function redactText(text: string): string {
  if (text.length < 7) return text;
  return text
    .replace(EMAIL, REDACTED)
    .replace(SSN, REDACTED)
    .replace(CARD, (m) => (luhnValid(m.replace(/[ -]/g, '')) ? REDACTED : m))
    .replace(PHONE, REDACTED);
}

export interface Redactor {
  /** A deep copy with PII-named keys and PII-looking values masked. */
  value<T>(v: T): T;
  text(s: string): string;
  isPiiField(key: string): boolean;
}

export function createRedactor(extraFields: readonly string[] = []): Redactor {
  const fields = new Set([...DEFAULT_PII_FIELDS, ...extraFields].map(fold));
  const isPiiField = (key: string) => fields.has(fold(key));
  const walk = (v: unknown, depth: number): unknown => {
    if (typeof v === 'string') return redactText(v);
    if (v === null || typeof v !== 'object') return v;
    if (depth > 32) return REDACTED;
    if (Array.isArray(v)) return v.map((x) => walk(x, depth + 1));
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = isPiiField(k) ? REDACTED : walk(x, depth + 1);
    return out;
  };
  return {
    value: <T>(v: T) => walk(v, 0) as T,
    text: redactText,
    isPiiField,
  };
}
