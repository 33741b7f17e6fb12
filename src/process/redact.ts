/**
 * Removes secrets from text that is printed or stored (a migrator's output, a tool's error, a driver message): every
 * configured secret in its plain and percent-encoded forms, and the password part of any URL (`scheme://user:pw@`),
 * configured or not. Nothing om-migrate prints or stores goes around this.
 */
export class Redactor {
  private readonly secrets: string[];

  constructor(secrets: Iterable<string | undefined>) {
    const all = new Set<string>();
    for (const secret of secrets) {
      if (!secret) continue;
      all.add(secret);
      all.add(encodeURIComponent(secret));
    }
    // Longest first, so a secret that contains another is replaced whole.
    this.secrets = [...all].sort((a, b) => b.length - a.length);
  }

  redact(text: string): string {
    let out = text;
    for (const secret of this.secrets) if (out.includes(secret)) out = out.split(secret).join('***');
    return out.replace(URL_PASSWORD, '$1***@');
  }

  /** A Redactor that also hides `more`. */
  with(...more: Array<string | undefined>): Redactor {
    return new Redactor([...this.secrets, ...more]);
  }
}

const URL_PASSWORD = /([a-z][a-z0-9+.-]*:\/\/[^\s:/@]*:)[^\s@/]+@/gi;

export const NO_SECRETS = new Redactor([]);
