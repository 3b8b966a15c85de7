import { z } from 'zod';

export const SettingsView = z.object({
  suppressHardBounces: z
    .boolean()
    .describe('When a recipient fails permanently (5xx), add its address to the suppressions.'),
});
export type SettingsView = z.output<typeof SettingsView>;

export const UpdateSettings = SettingsView.partial().strict();
export type UpdateSettings = z.output<typeof UpdateSettings>;

export const DEFAULT_SETTINGS: SettingsView = { suppressHardBounces: false };
