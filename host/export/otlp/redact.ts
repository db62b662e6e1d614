// Secrets (header values, URL credentials) never printed, wherever the text comes from: our own
// messages, an exception, or a collector's answer quoting the token back ("invalid API token
// 'SECRET...'"), which may quote only a part of it or only the token of "Bearer TOKEN". So
// besides each secret as a whole, any run of MIN_RUN or more characters found inside one of its
// words is replaced too.

/** Characters a quoted piece of a secret must share with it to be hidden. */
const MIN_RUN = 8;
const MASK = "***";

/** Replaces every secret in `text`, and every piece of MIN_RUN+ characters of one, with "***". */
export function redact(text: string, secrets: readonly string[]): string {
  const list = secrets.filter((s) => s.length > 0);
  if (list.length === 0 || text.length === 0) return text;
  // Whole secrets first, longest first, so a secret containing another is replaced whole.
  let out = text;
  for (const secret of [...list].sort((p, q) => q.length - p.length)) out = out.split(secret).join(MASK);
  const pieces = piecesOf(list);
  if (pieces.size === 0 || out.length < MIN_RUN) return out;
  // Then pieces: mark every window of MIN_RUN characters that occurs in a secret's word.
  const hidden = new Uint8Array(out.length);
  let any = false;
  for (let i = 0; i + MIN_RUN <= out.length; i++) {
    if (pieces.has(out.slice(i, i + MIN_RUN))) {
      hidden.fill(1, i, i + MIN_RUN);
      any = true;
    }
  }
  if (!any) return out;
  let result = "";
  for (let i = 0; i < out.length; ) {
    if (hidden[i] === 0) {
      result += out[i++];
      continue;
    }
    while (i < out.length && hidden[i] === 1) i++;
    result += MASK;
  }
  return result;
}

/** Every MIN_RUN-character window of every word (of MIN_RUN+ characters) of the secrets. */
function piecesOf(secrets: readonly string[]): Set<string> {
  const out = new Set<string>();
  for (const secret of secrets) {
    for (const word of secret.split(/[\s,;:=]+/)) {
      for (let i = 0; i + MIN_RUN <= word.length; i++) out.add(word.slice(i, i + MIN_RUN));
    }
  }
  return out;
}

/**
 * Makes everything written to these streams (messages: strings or UTF-8 bytes) pass through
 * `redact` with the secrets known at that moment.
 */
export function redactOutput(streams: readonly NodeJS.WriteStream[], secrets: () => readonly string[]): void {
  for (const stream of streams) {
    const write = stream.write.bind(stream) as (chunk: unknown, ...rest: unknown[]) => boolean;
    stream.write = ((chunk: unknown, ...rest: unknown[]) => {
      const list = secrets();
      if (list.length > 0) {
        if (typeof chunk === "string") chunk = redact(chunk, list);
        else if (chunk instanceof Uint8Array) chunk = Buffer.from(redact(Buffer.from(chunk).toString("utf8"), list), "utf8");
      }
      return write(chunk, ...rest);
    }) as typeof stream.write;
  }
}
