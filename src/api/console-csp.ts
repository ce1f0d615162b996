/**
 * The console's Content-Security-Policy: its own scripts, styles and images only, requests to
 * `connect` only (the review API and the managed login's token endpoint), no framing, no forms
 * elsewhere. The page has no inline script or style, so nothing needs 'unsafe-inline'.
 */
export function consoleCsp(connect: string[]): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    `connect-src ${connect.join(' ')}`,
    "form-action 'self'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}
