// Resources to release at exit, also on Ctrl-C / SIGTERM: processes, databases, Redis keys, temp dirs.
// Run in reverse order of registration. A script calls `cleanup()` in its final `finally`.

const cleanups = [];

/**
 * Registers `fn` to run at cleanup. Returns `release`: runs `fn` now (once) and unregisters it,
 * for resources that end before the script does.
 */
export function onCleanup(fn) {
  let done = false;
  const once = async () => {
    if (done) return;
    done = true;
    await fn();
  };
  cleanups.push(once);
  return async () => {
    const i = cleanups.indexOf(once);
    if (i >= 0) cleanups.splice(i, 1);
    await once();
  };
}

let cleaning = null;

/** Runs every registered cleanup once; a second call (e.g. a signal during the first) waits for the same run. */
export function cleanup() {
  cleaning ??= (async () => {
    for (const fn of cleanups.reverse()) {
      try {
        await fn();
      } catch (e) {
        console.error(`cleanup: ${e instanceof Error ? e.message : e}`);
      }
    }
  })();
  return cleaning;
}

for (const sig of ['SIGINT', 'SIGTERM'])
  process.on(sig, () => {
    console.error(`\n${sig}: cleaning up`);
    cleanup().finally(() => process.exit(130));
  });

/** Runs `main` (resolving with an exit code), cleans up, exits: with 2 if `main` throws. */
export function runMain(main) {
  main()
    .then(async (code) => {
      await cleanup();
      process.exit(code);
    })
    .catch(async (e) => {
      console.error(e);
      await cleanup();
      process.exit(2);
    });
}
