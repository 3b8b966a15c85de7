import { z } from 'zod';

export const SettingsView = z.object({
  suppressHardBounces: z
    .boolean()
    .describe(
      'When a recipient fails with a 5xx that says the address does not exist (enhanced status 5.1.1, 5.1.2, ' +
        '5.1.3, 5.1.6 or 5.1.10, RFC 3463 / RFC 7505), add the address (in lower case) to the suppressions, ' +
        'with the reply as reason and the queue id of the message; later mail to it fails at once (550 5.7.1) ' +
        'with a DSN that says so. Read with each batch of delivery results.',
    ),
});
export type SettingsView = z.output<typeof SettingsView>;

export const UpdateSettings = SettingsView.partial().strict();
export type UpdateSettings = z.output<typeof UpdateSettings>;

export const DEFAULT_SETTINGS: SettingsView = { suppressHardBounces: false };
