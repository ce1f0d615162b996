/**
 * The review API and console on localhost: plays API Gateway's part for `npm start` and the
 * end-to-end test. It serves `console/` at `/`, verifies bearer tokens for `/api/*` with a local
 * issuer (HS256, issuer `pb-local`) as Cognito's JWT authoriser would, and hands the request to
 * the very handler deployed in AWS (functions/review-api.ts) as an HTTP API payload 2.0 event.
 */
import { runtimeConfig } from '../runtime/engine.ts';
import { randomBytes, randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { APIGatewayProxyEventV2WithJWTAuthorizer } from 'aws-lambda';
import { errors as joseErrors, type JWTPayload, jwtVerify, SignJWT } from 'jose';
import type { Role } from '../api/auth.ts';
import { consoleCsp } from '../api/console-csp.ts';

/** Issuer of the local dev tokens. */
export const LOCAL_ISSUER = 'pb-local';

/** A running review server. */
export interface ReviewServer {
  /** Base URL, e.g. `http://127.0.0.1:3000`. */
  url: string;
  /** A token for the reviewer role (printed by `npm start`). */
  reviewerToken: string;
  /** A token for the auditor role (read-only). */
  auditorToken: string;
  /** A token for any role; a citizen token carries `subject` as its `pb:subject` claim. */
  tokenFor(role: Role, subject?: string): Promise<string>;
  close(): Promise<void>;
}

/** Options of {@link startReviewServer}. */
export interface ReviewServerOptions {
  /** Port to listen on; 0 picks a free one. */
  port: number;
  /** Interface to bind (default 127.0.0.1: dev tokens must not be reachable from the network). */
  host?: string;
  /** HMAC key of the local issuer; default PB_JWT_SECRET, else random per start. */
  secret?: Uint8Array;
  /** Directory of the console's static files (default `console/` of the repository). */
  consoleDir?: string;
}

const CONSOLE_DIR = resolve(fileURLToPath(new URL('../../console/', import.meta.url)));
const TOKEN_TTL = '12h';
const MAX_BODY_BYTES = 64 * 1024;

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
};

/** The issuer's key: explicit, else PB_JWT_SECRET (at least 32 bytes), else random for this start. */
function issuerKey(secret?: Uint8Array): Uint8Array {
  if (secret) return secret;
  const fromEnv = runtimeConfig().jwtSecret;
  if (fromEnv) {
    const key = new TextEncoder().encode(fromEnv);
    if (key.length < 32) throw new Error('PB_JWT_SECRET must be at least 32 characters long');
    return key;
  }
  return new Uint8Array(randomBytes(32));
}

function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  extra: Record<string, string> = {},
): void {
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'cache-control': 'no-store',
    ...extra,
  });
  res.end(JSON.stringify(body));
}

async function readBody(req: IncomingMessage): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw Object.assign(new Error('request body too large'), { status: 413 });
    chunks.push(chunk as Buffer);
  }
  return chunks.length > 0 ? Buffer.concat(chunks).toString('utf8') : undefined;
}

/** Claims as API Gateway passes them on: strings, numbers, booleans, string arrays. */
function gatewayClaims(payload: JWTPayload): Record<string, string | number | boolean | string[]> {
  const out: Record<string, string | number | boolean | string[]> = {};
  for (const [k, v] of Object.entries(payload)) {
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') out[k] = v;
    else if (Array.isArray(v)) out[k] = v.map(String);
  }
  return out;
}

/** The HTTP API payload 2.0 event for a verified request, as API Gateway builds it. */
function gatewayEvent(
  req: IncomingMessage,
  url: URL,
  body: string | undefined,
  claims: Record<string, string | number | boolean | string[]>,
): APIGatewayProxyEventV2WithJWTAuthorizer {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) {
    if (v !== undefined) headers[k.toLowerCase()] = Array.isArray(v) ? v.join(',') : v;
  }
  const query: Record<string, string> = {};
  // API Gateway joins repeated parameters with commas.
  for (const [k, v] of url.searchParams) query[k] = k in query ? `${query[k]},${v}` : v;
  const now = new Date();
  const method = (req.method ?? 'GET').toUpperCase();
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: url.pathname,
    rawQueryString: url.search.replace(/^\?/, ''),
    headers,
    ...(Object.keys(query).length > 0 ? { queryStringParameters: query } : {}),
    requestContext: {
      accountId: 'local',
      apiId: 'local',
      domainName: url.host,
      domainPrefix: 'local',
      http: {
        method,
        path: url.pathname,
        protocol: `HTTP/${req.httpVersion}`,
        sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
        userAgent: headers['user-agent'] ?? '',
      },
      requestId: randomUUID(),
      routeKey: '$default',
      stage: '$default',
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
      authorizer: {
        principalId: String(claims.sub ?? ''),
        integrationLatency: 0,
        jwt: { claims, scopes: null },
      },
    },
    ...(body !== undefined ? { body } : {}),
    isBase64Encoded: false,
  };
}

const LOCAL_CSP = consoleCsp(["'self'"]);

async function serveStatic(res: ServerResponse, dir: string, pathname: string): Promise<void> {
  let rel: string;
  try {
    rel = decodeURIComponent(pathname);
  } catch {
    sendJson(res, 400, { error: 'the path is not valid' });
    return;
  }
  if (rel === '/' || rel === '') rel = '/index.html';
  const file = normalize(join(dir, rel));
  // Never serve anything outside the console directory (../ in the path).
  if (file !== dir && !file.startsWith(dir + sep)) {
    sendJson(res, 404, { error: 'not found' });
    return;
  }
  try {
    const data = await readFile(file);
    res.writeHead(200, {
      'content-type': CONTENT_TYPES[extname(file)] ?? 'application/octet-stream',
      'cache-control': 'no-cache',
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      // As the hosted console: the page and the API on this origin, nothing else.
      'content-security-policy': LOCAL_CSP,
    });
    res.end(data);
  } catch {
    sendJson(res, 404, { error: `not found: ${pathname}` });
  }
}

/**
 * Starts the review server. `/api/*` requests need `Authorization: Bearer <token>` signed by this
 * server's issuer (401 otherwise); everything else is the console.
 */
export async function startReviewServer(opts: ReviewServerOptions): Promise<ReviewServer> {
  const key = issuerKey(opts.secret);
  const audience = runtimeConfig().jwtAudience;
  const consoleDir = opts.consoleDir ? resolve(opts.consoleDir) : CONSOLE_DIR;
  // Imported here, not at the top: the handler reads the environment the local stack has just set.
  const { handler } = await import('../../functions/review-api.ts');

  const tokenFor = async (role: Role, subject?: string): Promise<string> => {
    if (role === 'citizen' && !subject) throw new Error('a citizen token needs the subject pseudonym');
    const jwt = new SignJWT({
      role,
      'cognito:groups': [role],
      ...(subject ? { 'pb:subject': subject } : {}),
    })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setIssuer(LOCAL_ISSUER)
      .setSubject(role === 'citizen' ? `citizen-${subject}` : `local-${role}`)
      .setIssuedAt()
      .setExpirationTime(TOKEN_TTL);
    if (audience) jwt.setAudience(audience);
    return jwt.sign(key);
  };

  const verify = async (req: IncomingMessage): Promise<JWTPayload | string> => {
    const header = req.headers.authorization ?? '';
    const m = /^Bearer\s+(\S+)$/i.exec(header);
    if (!m) return 'sign in first: send Authorization: Bearer <token> (npm start prints a reviewer token)';
    try {
      const { payload } = await jwtVerify(m[1]!, key, {
        issuer: LOCAL_ISSUER,
        algorithms: ['HS256'],
        ...(audience ? { audience } : {}),
      });
      return payload;
    } catch (e) {
      return e instanceof joseErrors.JWTExpired
        ? 'the token has expired: get a new one (restart npm start)'
        : 'the token is not valid here: use the token npm start printed';
    }
  };

  const server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      if (!url.pathname.startsWith('/api/') && url.pathname !== '/api') {
        if (req.method !== 'GET' && req.method !== 'HEAD') {
          sendJson(res, 405, { error: 'only GET is allowed for console files' }, { allow: 'GET' });
          return;
        }
        await serveStatic(res, consoleDir, url.pathname);
        return;
      }
      const verified = await verify(req);
      if (typeof verified === 'string') {
        sendJson(res, 401, { error: verified }, { 'www-authenticate': 'Bearer realm="pb-local"' });
        return;
      }
      let body: string | undefined;
      try {
        body = await readBody(req);
      } catch (e) {
        sendJson(res, (e as { status?: number }).status ?? 400, { error: (e as Error).message });
        return;
      }
      const result = await handler(gatewayEvent(req, url, body, gatewayClaims(verified)));
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(result.headers ?? {})) headers[k] = String(v);
      res.writeHead(result.statusCode ?? 200, headers);
      res.end(result.body ? Buffer.from(result.body, result.isBase64Encoded ? 'base64' : 'utf8') : undefined);
    })().catch((e: Error) => {
      if (!res.headersSent) sendJson(res, 500, { error: `local server error: ${e.message}` });
      else res.end();
    });
  });

  const host = opts.host ?? '127.0.0.1';
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(opts.port, host, () => {
      server.off('error', fail);
      ok();
    });
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : opts.port;
  const shownHost =
    host === '0.0.0.0' || host === '::' ? 'localhost' : host.includes(':') ? `[${host}]` : host;
  const [reviewerToken, auditorToken] = await Promise.all([tokenFor('reviewer'), tokenFor('auditor')]);
  return {
    url: `http://${shownHost}:${port}`,
    reviewerToken,
    auditorToken,
    tokenFor,
    close: () =>
      new Promise<void>((ok, fail) => {
        server.closeAllConnections();
        server.close((e) => (e ? fail(e) : ok()));
      }),
  };
}
