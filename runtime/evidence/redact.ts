/**
 * Redaction of text that may carry credentials: user info in URLs, signed or keyed query strings
 * (SAS tokens, presigned URLs), `key=value` pairs with secret-like names, and known secret values.
 */
const URL_USERINFO = /\b([a-z][a-z0-9+._-]*:\/\/)[^/\s:@]+(?::[^/\s@]*)?@/gi;
const SECRET_QUERY =
  /([?&](?:sig|signature|se|sv|sp|token|access_token|x-amz-signature|x-amz-credential|x-amz-security-token|key|password|secret)=)[^&\s"']*/gi;
const SECRET_PAIR =
  /\b((?:password|passwd|secret|secretaccesskey|secret_access_key|accountkey|account_key|apikey|api_key|token|privatekey|private_key|sasl\.password)\s*[=:]\s*)("[^"]*"|'[^']*'|[^\s,;&"']+)/gi;
const PEM_BLOCK = /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----/g;

export const REDACTED = '[redacted]';

export function redactText(text: string, secrets: readonly string[] = []): string {
  let out = text
    .replace(PEM_BLOCK, REDACTED)
    .replace(URL_USERINFO, `$1${REDACTED}@`)
    .replace(SECRET_QUERY, `$1${REDACTED}`)
    .replace(SECRET_PAIR, `$1${REDACTED}`);
  for (const secret of secrets) {
    if (secret.length >= 4) out = out.split(secret).join(REDACTED);
  }
  return out;
}
