/**
 * The HTTP client of mtactl: calls one route of `ROUTES` (never a free-form path), sends the
 * bearer token, parses the answer with the route's own response schema, and turns every
 * failure into a CliError with the API's message and the exit code scripts rely on.
 */
import { z } from 'zod';
import { CliError, EXIT } from './errors';
import type { Route } from './routes';

/** `{name}` and `{selector}` of `/api/v1/domains/{name}/dkim/{selector}`. */
type PathParams<P extends string> = P extends `${string}{${infer K}}${infer Rest}`
  ? { [key in K]: string } & PathParams<Rest>
  : unknown;

type QueryOf<R extends Route> = R['query'] extends z.ZodObject
  ? { query?: { [key in keyof z.input<R['query']>]?: string | number | boolean | undefined } }
  : unknown;
type BodyOf<R extends Route> = R['body'] extends z.ZodType ? { body: z.input<R['body']> } : unknown;
type ParamsOf<R extends Route> = R['path'] extends `${string}{${string}`
  ? { params: PathParams<R['path']> }
  : unknown;

/** What a call of route `R` takes: its path parameters, query and body, each as the API names them. */
export type CallArgs<R extends Route> = ParamsOf<R> & QueryOf<R> & BodyOf<R> & LooseArgs;

interface LooseArgs {
  params?: Record<string, string>;
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
}

const ApiErrorBody = z.object({
  error: z.object({
    status: z.number(),
    code: z.string(),
    message: z.string(),
    fields: z.array(z.object({ field: z.string(), message: z.string() })).optional(),
  }),
});

export interface ClientOptions {
  url: string;
  token: string | undefined;
  /** Per request, in ms. */
  timeoutMs?: number;
  /** Ctrl-C: the request is abandoned. */
  signal?: AbortSignal;
}

export class ApiClient {
  readonly url: string;

  constructor(private readonly options: ClientOptions) {
    this.url = options.url.replace(/\/+$/, '');
  }

  /** Calls a route with a JSON answer and returns it parsed by the route's schema. */
  async call<R extends Route & { response: z.ZodType }>(
    route: R,
    args: CallArgs<R>,
  ): Promise<z.output<R['response']>> {
    const response = await this.fetch(route, args);
    return this.parse<R['response']>(route, route.response, await this.json(route, response));
  }

  /** A route that may answer 204 instead (DELETE /messages/{id} without bounce): null then. */
  async callOrNoContent<R extends Route & { response: z.ZodType }>(
    route: R,
    args: CallArgs<R>,
  ): Promise<z.output<R['response']> | null> {
    const response = await this.fetch(route, args);
    if (response.status === 204) return null;
    return this.parse<R['response']>(route, route.response, await this.json(route, response));
  }

  /** A route that answers 204. */
  async callNoContent<R extends Route & { status: 204 }>(route: R, args: CallArgs<R>): Promise<void> {
    const response = await this.fetch(route, args);
    await response.arrayBuffer();
  }

  /** A route whose answer is not JSON, e.g. the stored message. */
  async callRaw<R extends Route & { raw: true }>(route: R, args: CallArgs<R>): Promise<Buffer> {
    const response = await this.fetch(route, args);
    return Buffer.from(await response.arrayBuffer());
  }

  /**
   * A route that answers server-sent events: the response once its headers have come (within
   * the request timeout); its body is read by the caller, as long as it lasts or until `signal`.
   */
  async callStream<R extends Route & { stream: true }>(
    route: R,
    args: CallArgs<R>,
    signal: AbortSignal,
  ): Promise<Response> {
    return this.fetch(route, args, signal);
  }

  private async fetch(route: Route, args: LooseArgs, streamSignal?: AbortSignal): Promise<Response> {
    const url = this.urlOf(route, args);
    if (!this.options.token)
      throw new CliError('no API token: run `mtactl login` or set MTA_TOKEN', EXIT.unauthorized);
    let response: Response;
    // A stream may last: only its headers are timed.
    const headersTimeout = new AbortController();
    const timer = setTimeout(
      () => headersTimeout.abort(new Error('no answer in time')),
      this.options.timeoutMs ?? 30_000,
    );
    try {
      response = await fetch(url, {
        method: route.method,
        headers: {
          authorization: `Bearer ${this.options.token}`,
          accept: route.stream ? 'text/event-stream' : route.raw ? '*/*' : 'application/json',
          ...(args.body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: args.body === undefined ? undefined : JSON.stringify(args.body),
        signal: AbortSignal.any([
          streamSignal ? headersTimeout.signal : AbortSignal.timeout(this.options.timeoutMs ?? 30_000),
          ...(this.options.signal ? [this.options.signal] : []),
          ...(streamSignal ? [streamSignal] : []),
        ]),
        redirect: 'error',
      });
    } catch (error) {
      if (this.options.signal?.aborted) throw new CliError('interrupted', EXIT.interrupted);
      throw new CliError(`cannot reach the API at ${this.url}: ${reason(error)}`, EXIT.unreachable);
    } finally {
      clearTimeout(timer);
    }
    if (response.status === route.status || (response.status === 204 && route.method === 'DELETE'))
      return response;
    throw await this.failure(route, response);
  }

  private urlOf(route: Route, args: LooseArgs): string {
    const path = route.path.replace(/\{([A-Za-z0-9_]+)\}/g, (_m, name: string) => {
      const value = args.params?.[name];
      if (value === undefined) throw new Error(`mtactl: ${route.path}: no value for {${name}}`);
      return encodeURIComponent(value);
    });
    const query = new URLSearchParams();
    for (const [name, value] of Object.entries(args.query ?? {}))
      if (value !== undefined) query.set(name, String(value));
    const search = query.size > 0 ? `?${query}` : '';
    return `${this.url}${path}${search}`;
  }

  /** The API's own error message, or what made the answer not the API's. */
  private async failure(route: Route, response: Response): Promise<CliError> {
    const text = await response.text().catch(() => '');
    const parsed = ApiErrorBody.safeParse(safeJson(text));
    const where = `${route.method} ${route.path}`;
    if (!parsed.success)
      return new CliError(
        `${this.url} did not answer like the MTA admin API: ${where}: HTTP ${response.status}` +
          ` (${response.headers.get('content-type') ?? 'no content type'})`,
        EXIT.unreachable,
      );
    const { status, code, message, fields } = parsed.data.error;
    const details = (fields ?? []).map((f) => `${f.field}: ${f.message}`);
    if (status === 401 || status === 403)
      return new CliError(
        `the API refused the token (${status} ${code}: ${message}): run \`mtactl login\` or set MTA_TOKEN`,
        EXIT.unauthorized,
      );
    return new CliError(`${message} (${status} ${code})`, EXIT.apiError, details);
  }

  private async json(route: Route, response: Response): Promise<unknown> {
    const text = await response.text();
    const json = safeJson(text);
    if (json === undefined)
      throw new CliError(
        `${route.method} ${route.path}: the API answered something that is not JSON`,
        EXIT.apiError,
      );
    return json;
  }

  private parse<S extends z.ZodType>(route: Route, schema: S, json: unknown): z.output<S> {
    const parsed = schema.safeParse(json);
    if (parsed.success) return parsed.data;
    const issue = parsed.error.issues[0];
    throw new CliError(
      `${route.method} ${route.path}: unexpected answer (${issue?.path.join('.') || '(body)'}: ${issue?.message}); ` +
        'is mtactl older or newer than the server?',
      EXIT.apiError,
    );
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** `connect ECONNREFUSED 127.0.0.1:8080` rather than `fetch failed`. */
function reason(error: unknown): string {
  if (error instanceof Error && error.name === 'TimeoutError') return 'no answer in time';
  const cause = error instanceof Error ? error.cause : undefined;
  if (cause instanceof AggregateError && cause.errors[0] instanceof Error) return cause.errors[0].message;
  // undici refuses the ports of the fetch standard's block list (e.g. 1, 9, 25, 587).
  if (cause instanceof Error && cause.message === 'bad port')
    return 'fetch refuses to use this port (bad port)';
  if (cause instanceof Error) return cause.message;
  return error instanceof Error ? error.message : String(error);
}
