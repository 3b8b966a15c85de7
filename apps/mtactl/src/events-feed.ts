/**
 * Where `events --follow` gets new events from: the API's stream (`GET /api/v1/events/stream`,
 * server-sent events; `StreamFeed`), or, with `--interval`, polling `GET /api/v1/events` with
 * `since` (`PollingFeed`, for proxies that buffer streams).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { z } from 'zod';
import { EventView } from '@mta/feature-admin-api/schemas';
import type { ApiClient } from './client';
import { collect } from './command';
import { CliError, EXIT } from './errors';
import { ROUTES } from './routes';

export type ApiEvent = z.output<typeof EventView>;

export interface EventFilter {
  messageId?: string;
  type?: string;
}

export interface EventFeed {
  /** Calls `emit` with each new event, oldest first, until `signal` aborts. */
  follow(
    filter: EventFilter,
    after: ApiEvent[],
    emit: (event: ApiEvent) => void,
    signal: AbortSignal,
  ): Promise<void>;
}

/**
 * An event's `createdAt` is its transaction's start: one that commits a moment later can
 * appear behind events already seen. Each poll therefore asks again for the last OVERLAP_MS
 * before the newest event seen, and skips the ids it has printed.
 */
const OVERLAP_MS = 5_000;

export const byTime = (a: ApiEvent, b: ApiEvent): number =>
  a.createdAt === b.createdAt ? a.id.localeCompare(b.id) : Date.parse(a.createdAt) - Date.parse(b.createdAt);

export class PollingFeed implements EventFeed {
  constructor(
    private readonly client: ApiClient,
    private readonly intervalMs: number,
    private readonly note: (line: string) => void,
  ) {}

  async follow(filter: EventFilter, after: ApiEvent[], emit: (event: ApiEvent) => void, signal: AbortSignal) {
    const seen = new Map<string, number>(after.map((e) => [e.id, Date.parse(e.createdAt)]));
    let unreachable = false;
    while (!signal.aborted) {
      try {
        for (const event of await this.poll(filter, seen)) {
          seen.set(event.id, Date.parse(event.createdAt));
          emit(event);
        }
        if (unreachable) this.note('the API answers again');
        unreachable = false;
      } catch (error) {
        if (!(error instanceof CliError) || error.exitCode !== EXIT.unreachable) throw error;
        if (!unreachable) this.note(`${error.message}; trying again every ${this.intervalMs / 1000} s`);
        unreachable = true;
      }
      prune(seen);
      await sleep(this.intervalMs, undefined, { signal }).catch(() => undefined);
    }
  }

  private async poll(filter: EventFilter, seen: Map<string, number>): Promise<ApiEvent[]> {
    const newest = Math.max(...seen.values());
    const since = Number.isFinite(newest) ? new Date(newest - OVERLAP_MS).toISOString() : undefined;
    const events = await collect((cursor, limit) =>
      this.client.call(ROUTES.eventsList, { query: { ...filter, since, cursor, limit } }),
    );
    return events.filter((e) => !seen.has(e.id)).sort(byTime);
  }
}

/** Forgets ids too old to come again, keeping the newest one as the next `since`. */
function prune(seen: Map<string, number>): void {
  const newest = Math.max(...seen.values());
  for (const [id, at] of seen) if (at < newest - 2 * OVERLAP_MS) seen.delete(id);
}

/** The `data:` of each message of a server-sent event stream (WHATWG HTML, "Server-sent events"). */
async function* sseData(body: AsyncIterable<Uint8Array>): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let text = '';
  for await (const chunk of body) {
    text += decoder.decode(chunk, { stream: true }).replace(/\r\n?/g, '\n');
    let end: number;
    while ((end = text.indexOf('\n\n')) >= 0) {
      const block = text.slice(0, end);
      text = text.slice(end + 2);
      const data = block
        .split('\n')
        .filter((line) => line.startsWith('data:'))
        .map((line) => line.slice(line.startsWith('data: ') ? 6 : 5));
      if (data.length > 0 && !/^event: (?!message$)/m.test(block)) yield data.join('\n');
    }
  }
}

/**
 * Reads the API's event stream. When it breaks (the API restarts, a proxy closes it) it comes
 * back from the newest event seen, asking OVERLAP_MS earlier and skipping what it printed.
 */
export class StreamFeed implements EventFeed {
  constructor(
    private readonly client: ApiClient,
    private readonly note: (line: string) => void,
    private readonly retryMs = 2_000,
  ) {}

  async follow(filter: EventFilter, after: ApiEvent[], emit: (event: ApiEvent) => void, signal: AbortSignal) {
    const seen = new Map<string, number>(after.map((e) => [e.id, Date.parse(e.createdAt)]));
    let broken = false;
    while (!signal.aborted) {
      try {
        const newest = Math.max(...seen.values());
        const since = Number.isFinite(newest) ? new Date(newest - OVERLAP_MS).toISOString() : undefined;
        const response = await this.client.callStream(
          ROUTES.eventsStream,
          { query: { ...filter, since } },
          signal,
        );
        if (broken) this.note('the API answers again');
        broken = false;
        if (!response.body) throw new CliError('the event stream had no body', EXIT.unreachable);
        for await (const data of sseData(response.body)) {
          const event = EventView.parse(JSON.parse(data));
          if (seen.has(event.id)) continue;
          seen.set(event.id, Date.parse(event.createdAt));
          emit(event);
          prune(seen);
        }
      } catch (error) {
        if (signal.aborted) return;
        if (error instanceof CliError && error.exitCode !== EXIT.unreachable) throw error;
      }
      if (!broken) this.note(`the event stream broke; trying again every ${this.retryMs / 1000} s`);
      broken = true;
      await sleep(this.retryMs, undefined, { signal }).catch(() => undefined);
    }
  }
}
