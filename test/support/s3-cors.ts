/**
 * Cross-origin resource sharing for the S3 test server, as S3 evaluates a bucket's CORS
 * configuration, so that a page in a browser can be tested against the server the way it would
 * reach a real bucket.
 *
 * Rules have S3's shape (the JSON the S3 console and R2's dashboard take): AllowedOrigins,
 * AllowedMethods, AllowedHeaders, ExposeHeaders, MaxAgeSeconds; an origin or header pattern may
 * hold one `*`. A preflight (OPTIONS) is answered before, and instead of, authentication, as S3
 * answers it: it carries no signature because browsers send none. It succeeds only when one rule
 * allows the origin, the method asked for and every header asked for; otherwise 403 CORSResponse.
 * Every other request is authenticated as before; the CORS headers are only added to its answer
 * (errors included, or the browser would hide the error from the page) when its Origin matches a
 * rule for its method. Nothing here can make a request pass that would otherwise be refused.
 */
import { S3Error } from "./s3-xml.js";

export interface CorsRule {
  AllowedOrigins: readonly string[];
  AllowedMethods: readonly string[];
  AllowedHeaders?: readonly string[];
  ExposeHeaders?: readonly string[];
  MaxAgeSeconds?: number;
}

/** S3's own answer to a preflight that no rule allows. */
const NOT_ALLOWED =
  "This CORS request is not allowed. This is usually because the evalution of Origin, request method / Access-Control-Request-Method or Access-Control-Request-Headers are not whitelisted by the resource's CORS spec.";

/** A pattern with at most one `*`, matched whole. */
function matches(pattern: string, value: string): boolean {
  const star = pattern.indexOf("*");
  if (star < 0) return pattern === value;
  const head = pattern.slice(0, star);
  const tail = pattern.slice(star + 1);
  return value.length >= head.length + tail.length && value.startsWith(head) && value.endsWith(tail);
}

function ruleFor(rules: readonly CorsRule[], origin: string, method: string): CorsRule | undefined {
  return rules.find((rule) => rule.AllowedOrigins.some((o) => matches(o, origin)) && rule.AllowedMethods.includes(method));
}

function headerAllowed(rule: CorsRule, header: string): boolean {
  return (rule.AllowedHeaders ?? []).some((pattern) => matches(pattern.toLowerCase(), header));
}

/**
 * The answer to a preflight: status 200 and the Access-Control-* headers, or an S3Error
 * (403 CORSResponse) to send. `rules` undefined is a bucket without a CORS configuration.
 */
export function preflight(rules: readonly CorsRule[] | undefined, headers: Readonly<Record<string, string | undefined>>): Record<string, string> {
  const origin = headers["origin"];
  const method = headers["access-control-request-method"];
  if (origin === undefined || method === undefined) {
    throw new S3Error(400, "BadRequest", "Insufficient information. Origin request header needed.");
  }
  if (rules === undefined || rules.length === 0) throw new S3Error(403, "CORSResponse", "CORS is not enabled for this bucket.");
  const asked = (headers["access-control-request-headers"] ?? "")
    .split(",")
    .map((h) => h.trim().toLowerCase())
    .filter((h) => h !== "");
  const rule = rules.find((r) => ruleFor([r], origin, method) !== undefined && asked.every((h) => headerAllowed(r, h)));
  if (rule === undefined) throw new S3Error(403, "CORSResponse", NOT_ALLOWED);
  const answer: Record<string, string> = {
    "access-control-allow-origin": origin,
    "access-control-allow-methods": rule.AllowedMethods.join(", "),
    vary: "Origin, Access-Control-Request-Headers, Access-Control-Request-Method",
  };
  if (asked.length > 0) answer["access-control-allow-headers"] = asked.join(", ");
  if (rule.ExposeHeaders?.length) answer["access-control-expose-headers"] = rule.ExposeHeaders.join(", ");
  if (rule.MaxAgeSeconds !== undefined) answer["access-control-max-age"] = String(rule.MaxAgeSeconds);
  return answer;
}

/** The headers to add to the answer of an ordinary request; none when no rule allows it. */
export function corsHeaders(rules: readonly CorsRule[] | undefined, origin: string | undefined, method: string): Record<string, string> {
  if (rules === undefined || origin === undefined) return {};
  const rule = ruleFor(rules, origin, method);
  if (rule === undefined) return {};
  const answer: Record<string, string> = { "access-control-allow-origin": origin, vary: "Origin" };
  if (rule.ExposeHeaders?.length) answer["access-control-expose-headers"] = rule.ExposeHeaders.join(", ");
  return answer;
}
