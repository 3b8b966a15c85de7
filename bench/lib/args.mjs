// Command-line options of the bench scripts: `--name value` and bare `--flag`.

/** The word after `name` on the command line, or `fallback` when `name` is absent. */
export const argValue = (name, fallback) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : fallback;
};

/** Whether the bare flag `name` (e.g. `--quick`) is on the command line. */
export const hasFlag = (name) => process.argv.includes(name);

/** The space-separated words after `name` (e.g. node flags), or none when `name` is absent. */
export const argWords = (name) => (argValue(name, '') ?? '').split(' ').filter(Boolean);
