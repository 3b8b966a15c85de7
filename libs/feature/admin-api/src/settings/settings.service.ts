import { Injectable } from '@nestjs/common';
import { PrismaService } from '@mta/db';
import { DEFAULT_SETTINGS, SettingsView, type UpdateSettings } from './settings.schemas';

/**
 * Operator settings kept in the `settings` table, one row per key with a JSON value. The
 * queue manager reads `suppressHardBounces` with each batch of delivery results: if true, a hard
 * bounce (libs/queue-manager outcome.ts, `isHardBounce`) adds a suppression for the address with
 * reason `hard bounce: <code> <enhanced> <text>` and the message's queue id.
 */
@Injectable()
export class SettingsService {
  constructor(private readonly db: PrismaService) {}

  async get(): Promise<SettingsView> {
    const rows = await this.db.client.setting.findMany({
      where: { key: { in: Object.keys(DEFAULT_SETTINGS) } },
    });
    const stored = Object.fromEntries(rows.map((r) => [r.key, r.value]));
    // A row that does not parse (edited by hand) counts as the default.
    const merged = { ...DEFAULT_SETTINGS };
    for (const key of Object.keys(DEFAULT_SETTINGS) as (keyof SettingsView)[]) {
      const field = SettingsView.shape[key].safeParse(stored[key]);
      if (field.success) merged[key] = field.data;
    }
    return merged;
  }

  async update(input: UpdateSettings): Promise<SettingsView> {
    await this.db.client.$transaction(
      Object.entries(input)
        .filter(([, value]) => value !== undefined)
        .map(([key, value]) =>
          this.db.client.setting.upsert({
            where: { key },
            create: { key, value: value as boolean },
            update: { value: value as boolean },
          }),
        ),
    );
    return this.get();
  }
}
