import { ApiClient } from '../client';
import type { Family } from '../command';
import { checkUrl, configPath, DEFAULT_URL, readConfigFile, writeConfigFile } from '../config';
import { ROUTES } from '../routes';

export const login: Family = {
  summary: 'Save the API URL and a token for the next commands',
  default: 'login',
  commands: {
    login: {
      usage: '[--url URL]',
      summary:
        'Asks for the token without echo (or reads the first line of stdin), checks it against the API, ' +
        'and saves both in $XDG_CONFIG_HOME/mtactl/config.json (mode 0600; MTACTL_CONFIG elsewhere)',
      args: { min: 0, max: 0 },
      async run(ctx) {
        const file = configPath(ctx.env);
        const saved = await readConfigFile(file, (line) => ctx.out.note(line));
        const url = ctx.urlFlag || ctx.env['MTA_URL'] || saved.url || DEFAULT_URL;
        checkUrl(url);
        const token = await ctx.readSecret(`API token for ${url}: `);
        // A call that needs the token: a wrong one stops here, before it is saved.
        await new ApiClient({ url, token }).call(ROUTES.settings, {});
        await writeConfigFile(file, { url, token });
        if (ctx.out.json) return ctx.out.printJson({ url, config: file });
        ctx.out.line(`logged in to ${url}; saved in ${file} (mode 0600)`);
      },
    },
  },
};
